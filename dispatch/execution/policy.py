"""The failed-delivery policy: what happens to an order after its stop failed or was skipped.

Per organisation (`reattempt_same_day`, `reschedule_policy`, `max_delivery_attempts`), in order:
a) attempts left, same-day re-attempts on, and the same route can still take the order later
   today (insertion test, `plan_order_reattempt`): a new stop on that route;
b) attempts left and `next_slot`: rescheduled into the next feasible delivery slot;
c) attempts left and `customer_picks`: rescheduled, the customer picks a slot on the tracking page;
d) otherwise (no rescheduling, no slot, the maximum reached): returned to the hub.

It runs after commit as the subscriber of `stop_failed` and `stop_skipped`. Events are redelivered,
so a decision is taken once per stop: it is recorded in the order's history and looked up there
first. Ops hear of it through `failure_policy_decided` (tracking raises the exception).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from accounts.tenancy import Actor
from common import clock
from common.events import FAILURE_POLICY_DECIDED, publish_on_commit
from dispatch.execution.decisions import FailureAction, FailureDecision, ReturnCause, failure_decision_get
from dispatch.models import FailureReason, Stop, StopStatus
from dispatch.planning.services.live import plan_order_reattempt
from dispatch.slots.selectors import order_next_slots
from dispatch.slots.services import SlotUnavailable, order_reschedule
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.services import order_failure_decision_record, order_transition

DECIDED_ON = frozenset({StopStatus.FAILED, StopStatus.SKIPPED})
# A re-attempt "later today" is not the next stop: the customer who was out gets some time back.
REATTEMPT_AFTER = dt.timedelta(minutes=60)
# How far ahead the next feasible slot is looked for, and how many offers are tried in turn (an
# offer may be taken between the read and the booking).
NEXT_SLOT_DAYS = 7
NEXT_SLOT_TRIES = 3
# Trying again cannot help: the recipient refused the parcel, or it is damaged.
RETURN_REASONS = frozenset({FailureReason.REFUSED, FailureReason.DAMAGED})
# The same route cannot fix these later today: the driver could not find the place, the vehicle
# has a problem, the day ran out. The next slot (or the customer) may.
NO_SAME_DAY_REASONS = frozenset({FailureReason.ADDRESS_WRONG, FailureReason.VEHICLE_ISSUE, FailureReason.OUT_OF_TIME})


def failure_policy_apply(*, stop_id: int) -> FailureDecision | None:
    """Decide once what happens to the order of a failed or skipped stop, and do it.

    Returns the decision (the one taken earlier on a redelivered event), or None when there is
    nothing to decide: no such stop, a stop neither failed nor skipped, or an order that is no
    longer failed (ops moved or cancelled it first).
    """
    stop = Stop.objects.select_related("route__plan__hub", "order__organization").filter(pk=stop_id).first()
    if stop is None or stop.status not in DECIDED_ON:
        return None
    organization = stop.order.organization
    decided = failure_decision_get(organization=organization, stop_id=stop_id)
    if decided is not None:
        return decided
    with transaction.atomic():
        new_stop = None
        if _may_reattempt(stop, stop.order):
            # Takes the plan's lock before the order's (the plan's lock order), which also
            # serializes two deliveries of the same event.
            new_stop = plan_order_reattempt(
                order_id=stop.order_id, route_id=stop.route_id, not_before=clock.now() + REATTEMPT_AFTER
            )
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("organization", "hub").get(pk=stop.order_id)
        )
        decided = failure_decision_get(organization=organization, stop_id=stop_id)
        if decided is not None:
            return decided  # a concurrent delivery of the same event decided first
        if new_stop is None and order.status != OrderStatus.FAILED:
            return None
        decision = _decide(stop, order, new_stop)
        order_failure_decision_record(order=order, summary=decision.summary(), details=decision.as_details())
        publish_on_commit(
            FAILURE_POLICY_DECIDED,
            {
                "stop_id": stop.pk,
                "order_id": order.pk,
                "organization_id": order.organization_id,
                "action": decision.action,
            },
        )
    return decision


def _may_reattempt(stop: Stop, order: Order) -> bool:
    organization = order.organization
    return (
        organization.reattempt_same_day
        and order.delivery_attempts < organization.max_delivery_attempts
        and stop.failure_reason not in RETURN_REASONS
        and stop.failure_reason not in NO_SAME_DAY_REASONS
    )


def _decide(stop: Stop, order: Order, new_stop: Stop | None) -> FailureDecision:
    organization = order.organization
    facts = {
        "stop_id": stop.pk,
        "order_id": order.pk,
        "route_id": stop.route_id,
        "outcome": stop.status,
        "reason": stop.failure_reason,
        "note": stop.failure_note,
        "attempts": order.delivery_attempts,
        "max_attempts": organization.max_delivery_attempts,
    }
    tz = stop.route.plan.hub.tz
    if new_stop is not None:
        arrival = new_stop.planned_arrival.astimezone(tz).isoformat()
        return FailureDecision(
            action=FailureAction.REATTEMPT, new_stop_id=new_stop.pk, planned_arrival=arrival, **facts
        )
    cause = _return_cause(stop, order)
    if cause is None and organization.reschedule_policy == "next_slot":
        slot = _reschedule_into_next_slot(order)
        if slot is not None:
            start, end = (moment.astimezone(tz).isoformat() for moment in slot)
            return FailureDecision(action=FailureAction.NEXT_SLOT, slot_start=start, slot_end=end, **facts)
        cause = ReturnCause.NO_SLOT
    elif cause is None and organization.reschedule_policy == "customer_picks":
        order_transition(
            actor=None, order=order, to_status=OrderStatus.RESCHEDULED, reason="The customer picks a new slot."
        )
        return FailureDecision(action=FailureAction.CUSTOMER_PICKS, **facts)
    elif cause is None:
        cause = ReturnCause.NO_RESCHEDULE
    decision = FailureDecision(action=FailureAction.RETURN, return_cause=cause, **facts)
    order_transition(actor=None, order=order, to_status=OrderStatus.RETURNED, reason=decision.summary()[:300])
    return decision


def _return_cause(stop: Stop, order: Order) -> ReturnCause | None:
    if stop.failure_reason in RETURN_REASONS:
        return ReturnCause.REASON
    if order.delivery_attempts >= order.organization.max_delivery_attempts:
        return ReturnCause.MAX_ATTEMPTS
    return None


def _reschedule_into_next_slot(order: Order) -> tuple[dt.datetime, dt.datetime] | None:
    """Book the order into the first feasible slot from now; None when there is none."""
    if order.hub is None or order.lat is None or order.lng is None:
        return None
    offers = order_next_slots(
        organization=order.organization, order=order, days=NEXT_SLOT_DAYS, limit=NEXT_SLOT_TRIES
    ).slots
    system = Actor(organization=order.organization)
    for offer in offers:
        try:
            order_reschedule(actor=system, order=order, start=offer.start, end=offer.end)
        except SlotUnavailable:
            continue  # taken since it was offered: try the next one
        return offer.start, offer.end
    return None


def on_stop_closed(payload: dict) -> None:
    """Outbox subscriber of `stop_failed` and `stop_skipped`."""
    failure_policy_apply(stop_id=payload["stop_id"])
