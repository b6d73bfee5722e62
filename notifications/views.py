"""The message log (office roles), a preview of each kind, the settings (admins), and the public unsubscribe page."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.navigation import ADMINS, page_roles
from accounts.tenancy import organization_page
from notifications.models import Channel, MessageKind, MessageStatus, NotificationSettings
from notifications.rules import notification_settings_get, notification_settings_update, rules_for
from notifications.selectors import message_get, message_list
from notifications.services.optout import opt_out_record, unsubscribe_read
from notifications.services.previews import message_previews, sample_context
from notifications.services.rendering import message_render, template_override
from notifications.services.wording import message_template_save

PAGE_SIZE = 50


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any"), *MessageStatus.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any"), *MessageKind.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "Any"), *Channel.choices], required=False)
    order = forms.CharField(required=False, max_length=100, label="Order reference")


@organization_page(roles=page_roles("notification-messages"))
def message_log(request):
    form = MessageFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    messages = message_list(organization=request.actor.organization, filters=filters)
    page = Paginator(messages, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/messages.html", {"form": form, "page": page})


@organization_page(roles=page_roles("notification-messages"))
def message_detail(request, pk):
    message = message_get(organization=request.actor.organization, message_id=pk)
    if message is None:
        raise Http404("No such message.")
    return render(request, "notifications/message.html", {"message": message})


class NotificationSettingsForm(forms.Form):
    language = forms.ChoiceField(choices=NotificationSettings._meta.get_field("language").choices)
    quiet_hours_start = forms.TimeField(required=False, label="Quiet hours from")
    quiet_hours_end = forms.TimeField(required=False, label="Quiet hours until")
    arriving_soon_minutes = forms.IntegerField(min_value=1, max_value=120, label="Arriving soon (minutes before)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in MessageKind.choices:
            for channel, channel_label in Channel.choices:
                self.fields[f"rule:{kind}:{channel}"] = forms.BooleanField(
                    required=False, label=f"{label} by {channel_label}"
                )

    def clean(self):
        data = super().clean()
        if (data.get("quiet_hours_start") is None) != (data.get("quiet_hours_end") is None):
            raise forms.ValidationError("Give both ends of the quiet hours, or neither.")
        return data

    def rules(self) -> dict[tuple[str, str], bool]:
        return {
            (kind, channel): self.cleaned_data[f"rule:{kind}:{channel}"]
            for kind in MessageKind.values
            for channel in Channel.values
        }


@organization_page(roles=ADMINS)
def notification_settings(request):
    organization = request.actor.organization
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            notification_settings_update(
                organization=organization,
                language=form.cleaned_data["language"],
                quiet_hours_start=form.cleaned_data["quiet_hours_start"],
                quiet_hours_end=form.cleaned_data["quiet_hours_end"],
                arriving_soon_minutes=form.cleaned_data["arriving_soon_minutes"],
                rules=form.rules(),
            )
            return redirect("notification-settings")
    else:
        current = notification_settings_get(organization=organization)
        initial = {
            "language": current.language,
            "quiet_hours_start": current.quiet_hours_start,
            "quiet_hours_end": current.quiet_hours_end,
            "arriving_soon_minutes": current.arriving_soon_minutes,
        }
        for (kind, channel), enabled in rules_for(organization=organization).items():
            initial[f"rule:{kind}:{channel}"] = enabled
        form = NotificationSettingsForm(initial=initial)
    rows = [
        (label, [form[f"rule:{kind}:{channel}"] for channel in Channel.values]) for kind, label in MessageKind.choices
    ]
    return render(request, "notifications/settings.html", {"form": form, "rows": rows, "channels": Channel.labels})


class MessageTemplateForm(forms.Form):
    subject = forms.CharField(required=False, max_length=300)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 12}), label="Email text")
    sms = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), label="SMS")


@organization_page(roles=ADMINS)
def message_template_edit(request, kind, language):
    organization = request.actor.organization
    if kind not in MessageKind.values or language not in dict(NotificationSettings._meta.get_field("language").choices):
        raise Http404("No such kind of message or language.")
    current = template_override(organization_id=organization.pk, kind=kind, language=language)
    if request.method == "POST":
        form = MessageTemplateForm(request.POST)
        if form.is_valid():
            try:
                message_template_save(organization=organization, kind=kind, language=language, **form.cleaned_data)
            except ValidationError as refusal:
                for field, problems in refusal.message_dict.items():
                    form.add_error(field, problems)
            else:
                return redirect("notification-template", kind=kind, language=language)
    else:
        form = MessageTemplateForm(
            initial={"subject": current.subject, "text": current.text, "sms": current.sms} if current else {}
        )
    context = sample_context(organization, language)
    rendered = {
        channel: message_render(kind=kind, channel=channel, language=language, context=context, override=current)
        for channel in Channel.values
    }
    default_source = get_template(f"notifications/messages/{language}/{kind}.txt").template.source
    page = {
        "form": form,
        "kind": MessageKind(kind),
        "language": language,
        "email": rendered[Channel.EMAIL],
        "sms": rendered[Channel.SMS][1],
        "default_source": default_source,
    }
    return render(request, "notifications/template.html", page)


@organization_page(roles=page_roles("notification-messages"))
def message_preview(request):
    previews = message_previews(organization=request.actor.organization, language=request.GET.get("language"))
    return render(request, "notifications/preview.html", {"previews": previews})


# Mail clients' one-click unsubscribe (RFC 8058) POSTs without a CSRF token; the signed token is
# the credential, and all it can do is stop messages to the contact it names.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """A GET shows what the link stops and asks to confirm (mail scanners follow links); the POST records it."""
    data = unsubscribe_read(token)
    if data is None:
        raise Http404("This unsubscribe link is not valid.")
    done = False
    if request.method == "POST":
        opt_out_record(organization_id=data["o"], channel=data["c"], contact=data["t"])
        done = True
    context = {"channel": Channel(data["c"]).label, "contact": data["t"], "done": done}
    return render(request, "notifications/unsubscribe.html", context)
