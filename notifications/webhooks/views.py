"""The admins' webhooks page: endpoints, their secrets (shown once), the delivery log, replays."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from common.errors import DomainError, FieldValidationError
from notifications.models.webhooks import DeliveryStatus
from notifications.webhooks import selectors, services
from notifications.webhooks.catalogue import EVENT_TYPES, TEST_EVENT

EVENT_CHOICES = [(event_type.name, event_type.name) for event_type in EVENT_TYPES]
LOG_SIZE = 50


class EndpointForm(forms.Form):
    url = forms.URLField(
        max_length=500, assume_scheme="https", label="URL", help_text="Where Waypoint POSTs the events"
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type, including ones added later.",
    )
    active = forms.BooleanField(required=False, initial=True)


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(min_value=0, max_value=168, initial=24)


class ReplaySinceForm(forms.Form):
    since = forms.DateTimeField(help_text="e.g. 2026-12-01 08:00 (UTC)")


def _pages(view):
    return organization_page(roles=page_roles("webhook-list"))(view)


def _endpoint(request, pk):
    return get_object_or_404(selectors.webhook_endpoint_list(organization=request.actor.organization), pk=pk)


def _save(form, call) -> bool:
    """Run the service; its field errors land on the form."""
    try:
        call()
    except FieldValidationError as error:
        for field, problems in error.errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return False
    return True


@_pages
def webhook_list(request):
    organization = request.actor.organization
    form = EndpointForm(request.POST or None)
    created = {}
    if request.method == "POST" and form.is_valid():
        call = lambda: created.update(  # noqa: E731
            endpoint=services.webhook_endpoint_create(organization=organization, **form.cleaned_data)
        )
        if _save(form, call):
            # Post/redirect/get: the secret is shown once, on the next page only.
            request.session["new_webhook_secret"] = created["endpoint"].secret
            return redirect("webhook-detail", pk=created["endpoint"].pk)
    context = {"endpoints": selectors.webhook_endpoint_list(organization=organization), "form": form}
    return render(request, "notifications/webhooks/list.html", context)


@_pages
def webhook_detail(request, pk):
    organization = request.actor.organization
    endpoint = _endpoint(request, pk)
    form = EndpointForm(
        request.POST or None,
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "active": endpoint.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        call = lambda: services.webhook_endpoint_update(endpoint=endpoint, changes=form.cleaned_data)  # noqa: E731
        if _save(form, call):
            messages.success(request, "Endpoint saved.")
            return redirect("webhook-detail", pk=endpoint.pk)
    status = request.GET.get("status", "")
    event_type = request.GET.get("event_type", "")
    deliveries = selectors.webhook_delivery_list(
        organization=organization,
        endpoint=endpoint,
        status=status if status in DeliveryStatus.values else "",
        event_type=event_type if event_type in {*dict(EVENT_CHOICES), TEST_EVENT} else "",
    ).prefetch_related("attempt_log")[:LOG_SIZE]
    context = {
        "endpoint": endpoint,
        "form": form,
        "rotate_form": RotateForm(),
        "replay_form": ReplaySinceForm(),
        "deliveries": deliveries,
        "statuses": DeliveryStatus.choices,
        "event_types": [*dict(EVENT_CHOICES), TEST_EVENT],
        "status": status,
        "event_type": event_type,
        "new_secret": request.session.pop("new_webhook_secret", None),
    }
    return render(request, "notifications/webhooks/detail.html", context)


@require_POST
@_pages
def webhook_rotate(request, pk):
    endpoint = _endpoint(request, pk)
    form = RotateForm(request.POST)
    hours = form.cleaned_data["overlap_hours"] if form.is_valid() else 24
    endpoint = services.webhook_secret_rotate(endpoint=endpoint, overlap=dt.timedelta(hours=hours))
    request.session["new_webhook_secret"] = endpoint.secret
    messages.success(request, f"New secret issued; the previous one signs too for {hours} h.")
    return redirect("webhook-detail", pk=endpoint.pk)


@require_POST
@_pages
def webhook_test(request, pk):
    services.webhook_test_send(endpoint=_endpoint(request, pk))
    messages.success(request, "Test event queued: it appears in the log below.")
    return redirect("webhook-detail", pk=pk)


@require_POST
@_pages
def webhook_replay(request, pk):
    endpoint = _endpoint(request, pk)
    try:
        if event_id := request.POST.get("event_id", ""):
            services.webhook_replay_event(endpoint=endpoint, event_id=event_id)
            messages.success(request, f"Event {event_id} queued again.")
        else:
            form = ReplaySinceForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Give a date and time to replay from.")
                return redirect("webhook-detail", pk=pk)
            replayed = services.webhook_replay_since(endpoint=endpoint, since=form.cleaned_data["since"])
            messages.success(request, f"{len(replayed)} events queued again.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("webhook-detail", pk=pk)


@require_POST
@_pages
def webhook_delete(request, pk):
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("webhook-list")
