"""The message log (office roles), a preview of each kind, and the public unsubscribe page."""

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from notifications.models import Channel, MessageKind, MessageStatus
from notifications.selectors import message_list
from notifications.services.optout import opt_out_record, unsubscribe_read
from notifications.services.previews import message_previews

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
