"""The customer's tracking page: public, keyed only by the order's unguessable token.

It shows this order and nothing of any other customer: status timeline, delivery window and the
customer's own choices. Actions are validated and recorded in the order's history.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.tenancy import Actor
from common.errors import DomainError
from dispatch.execution.decisions import DECIDED, failure_awaits_customer_slot
from dispatch.slots.selectors import order_next_slots
from dispatch.slots.services import order_reschedule
from orders import selectors, services
from orders.models import DeliveryAlternative
from tracking.selectors.tracking_page import (
    TrackingSnapshot,
    delivery_code_for_customer,
    tracking_link_expired,
    tracking_snapshot,
)
from tracking.serializers import TrackingSnapshotSerializer

CUSTOMER_STEPS = [
    ("received", "Order received", {"created", "validated"}),
    ("scheduled", "Scheduled", {"planned", "dispatched", "rescheduled"}),
    ("on_the_way", "On the way", {"out_for_delivery"}),
    ("arrived", "Driver at your door", {"arrived"}),
    ("delivered", "Delivered", {"delivered"}),
]
EVENT_LABELS = {
    "order_created": "Order received",
    "order_validated": "Address confirmed",
    "order_planned": "Scheduled",
    "order_dispatched": "Ready for dispatch",
    "order_out_for_delivery": "On the way",
    "order_arrived": "Driver arrived",
    "order_delivered": "Delivered",
    "order_failed": "Delivery attempt failed",
    "order_rescheduled": "Rescheduled",
    "order_returned": "Returned to sender",
    "order_cancelled": "Cancelled",
    "instructions_updated": "Instructions updated",
    "access_code_updated": "Door code updated",
    "alternative_chosen": "Delivery alternative chosen",
    "delivery_rated": "Delivery rated",
    "delivery_code_reset": "New one-time code",
}
# Ops' records the customer does not see: the status changes they lead to tell the story.
HIDDEN_EVENTS = frozenset({DECIDED})


class CustomerForm(forms.Form):
    """A tracking-page action's form; it knows the order it acts on."""

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order


class InstructionsForm(CustomerForm):
    instructions = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AccessCodeForm(CustomerForm):
    access_code = forms.CharField(
        max_length=64,
        required=False,
        label="Door or gate code",
        help_text="Only your driver sees it. Leave empty to remove a saved code.",
    )


class AlternativeForm(CustomerForm):
    alternative = forms.ChoiceField(choices=DeliveryAlternative.choices)
    detail = forms.CharField(max_length=300, required=False, help_text="Which neighbour, where, which pickup point")


class RatingForm(CustomerForm):
    rating = forms.TypedChoiceField(choices=[(n, n) for n in range(5, 0, -1)], coerce=int)
    comment = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), required=False)


RESCHEDULABLE = frozenset({"created", "validated", "rescheduled", "failed"})


def slot_choices(order) -> list[tuple[str, str]]:
    """The next bookable slots for this order (computed only when the customer asks)."""
    if order.status not in RESCHEDULABLE or order.hub is None or order.lat is None:
        return []
    offers = order_next_slots(organization=order.organization, order=order, days=7, limit=6).slots
    tz = order.hub.tz
    return [
        (
            f"{o.start.isoformat()}|{o.end.isoformat()}",
            f"{o.start.astimezone(tz):%a %d %b %H:%M}–{o.end.astimezone(tz):%H:%M}",
        )
        for o in offers
    ]


class RescheduleForm(CustomerForm):
    slot = forms.ChoiceField(label="New delivery time")

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, order=order, **kwargs)
        self.fields["slot"].choices = slot_choices(order) if order is not None else []


def _reschedule(order, data) -> None:
    start, end = (dt.datetime.fromisoformat(part) for part in data["slot"].split("|"))
    actor = Actor(organization=order.organization, name="customer")
    order_reschedule(actor=actor, order=order, start=start, end=end)


ACTIONS = {
    "instructions": (InstructionsForm, lambda order, d: services.order_instructions_set(order=order, **d)),
    "access_code": (AccessCodeForm, lambda order, d: services.order_access_code_set(order=order, **d)),
    "alternative": (AlternativeForm, lambda order, d: services.order_alternative_choose(order=order, **d)),
    "rating": (RatingForm, lambda order, d: services.order_rate(order=order, **d)),
    "reschedule": (RescheduleForm, _reschedule),
}


def _timeline(order, events) -> list[dict]:
    reached = {e.to_status for e in events if e.to_status}
    steps = []
    for key, label, statuses in CUSTOMER_STEPS:
        steps.append(
            {"key": key, "label": label, "done": bool(reached & statuses), "current": order.status in statuses}
        )
    return steps


@require_http_methods(["GET", "POST"])
def tracking_page(request, token):
    order = selectors.order_by_tracking_token(token=token)
    if order is None:
        raise Http404("No delivery with this tracking link.")
    if tracking_link_expired(order):
        # Gone, not missing: the customer learns the delivery is over and whom to ask, nothing more.
        return render(request, "tracking/expired.html", {"sender": order.organization.name}, status=410)
    bound = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ACTIONS:
            raise Http404("Unknown action.")
        form_class, perform = ACTIONS[action]
        bound = (
            action,
            form_class(request.POST, order=order) if form_class is RescheduleForm else form_class(request.POST),
        )
        if bound[1].is_valid():
            try:
                perform(order, bound[1].cleaned_data)
            except DomainError as refusal:
                messages.error(request, refusal.message)
            else:
                messages.success(request, "Thank you, your choice has been recorded.")
            return redirect("tracking-page", token=token)
    context = _context(order, bound)
    # After a failed attempt the sender may leave the new time to the customer: the slots are shown
    # at once, not behind a link.
    if (request.GET.get("reschedule") or context["awaits_slot"]) and order.status in RESCHEDULABLE and bound is None:
        context["forms"]["reschedule"] = RescheduleForm(order=order)
        context["show_slots"] = True
    return render(request, "tracking/page.html", context)


def _tz(order):
    return order.hub.tz if order.hub else dt.UTC


def _local_windows(order) -> list[tuple[dt.datetime, dt.datetime]]:
    tz = _tz(order)
    return [
        (dt.datetime.fromisoformat(w["start"]).astimezone(tz), dt.datetime.fromisoformat(w["end"]).astimezone(tz))
        for w in order.time_windows
    ]


def _context(order, bound) -> dict:
    events = list(selectors.order_events(order=order))
    forms_by_action = {name: form_class() for name, (form_class, _) in ACTIONS.items()}
    forms_by_action["instructions"] = InstructionsForm(initial={"instructions": order.instructions})
    if bound is not None:
        forms_by_action[bound[0]] = bound[1]
    live = tracking_snapshot(order)
    awaits_slot = failure_awaits_customer_slot(organization=order.organization, order=order)
    return {
        "order": order,
        "sender": order.organization.name,
        "steps": _timeline(order, events),
        "history": [
            {"at": e.at.astimezone(_tz(order)), "label": EVENT_LABELS.get(e.kind, e.kind.replace("_", " "))}
            for e in events
            if e.kind not in HIDDEN_EVENTS
        ],
        # The failed attempt's window is over; the customer is choosing the next one.
        "windows": [] if awaits_slot else _local_windows(order),
        "awaits_slot": awaits_slot,
        "forms": forms_by_action,
        # The one-time code the driver asks for at the door; empty when it is not (or no longer) needed.
        "delivery_code": delivery_code_for_customer(order),
        "can_change": order.status not in {"delivered", "failed", "returned", "cancelled", "arrived"},
        "offers_alternatives": order.organization.allow_delivery_alternatives,
        "can_rate": order.status == "delivered" and order.rating is None,
        "can_reschedule": order.status in RESCHEDULABLE and order.hub_id is not None,
        "show_slots": bound is not None and bound[0] == "reschedule",
        # Live part: the same snapshot the socket sends on connect, so a reload shows the truth.
        "live": TrackingSnapshotSerializer(live).data,
        "live_window": _live_window(order, live),
        "status_labels": _status_labels(),
        "timezone_name": str(_tz(order)),
    }


def _status_labels() -> dict:
    labels = {status: label for _key, label, statuses in CUSTOMER_STEPS for status in statuses}
    return {**labels, "failed": "Delivery attempt failed", "returned": "Returned to sender", "cancelled": "Cancelled"}


def _live_window(order, live: TrackingSnapshot) -> tuple[dt.datetime, dt.datetime] | None:
    if live.eta is None:
        return None
    tz = _tz(order)
    return live.eta.window_start.astimezone(tz), live.eta.window_end.astimezone(tz)
