"""Tracking's subscribers to domain events (registered in `TrackingConfig.ready()`).

Live pages and the tower follow every status an order takes on the road; failed attempts,
address issues, orders left out for capacity and reactions that failed their last retry raise
exceptions for ops.
"""

from django.db import transaction

from accounts.models import Organization
from common.events import FailedDelivery
from common.realtime import tower_publish, tracking_publish
from dispatch.execution.decisions import FailureAction, failure_decision_get, failure_policy_applies
from dispatch.models import PlanUnassigned, Route
from orders.models import Order
from tracking.payloads import CLOSED_STATUSES
from tracking.services.exceptions import exception_raise
from tracking.services.kpis import kpis_publish


def on_order_status_changed(payload: dict) -> None:
    """Handler for the `order_<status>` domain events: pages and the tower see the new status."""
    order = Order.objects.filter(pk=payload["order_id"]).only("pk", "status", "organization_id", "hub_id").first()
    if order is None:
        return
    tracking_publish(order.pk, {"type": "order.status", "status": order.status})
    if order.status in CLOSED_STATUSES:
        tracking_publish(order.pk, {"type": "driver.hidden"})
    tower_publish(
        order.organization_id,
        {"type": "order.status", "order_id": order.pk, "hub_id": order.hub_id, "status": order.status},
    )
    transaction.on_commit(lambda: kpis_publish(organization_id=order.organization_id))


def on_order_failed(payload: dict) -> None:
    """A failure off any route; a stop's failure is raised with the policy's decision instead."""
    if failure_policy_applies(order_id=payload["order_id"]):
        return
    order = Order.objects.select_related("organization").get(pk=payload["order_id"])
    exception_raise(
        organization=order.organization,
        kind="failed_attempt",
        cause=f"failed_attempt:order:{order.pk}",
        message=f"Delivery of {order.merchant_reference} failed: {payload.get('reason') or 'no reason given'}.",
        order=order,
        severity="critical",
    )


# What ops can do next, by the policy's decision.
FAILURE_SUGGESTIONS = {
    FailureAction.REATTEMPT: [
        "Call the customer to check someone is in later today",
        "Move the re-attempt to another route",
        "Reschedule the order",
    ],
    FailureAction.NEXT_SLOT: ["Tell the customer the new delivery time", "Offer the customer another slot"],
    FailureAction.CUSTOMER_PICKS: ["Remind the customer to pick a new slot", "Pick a slot for the customer"],
    FailureAction.RETURN: ["Return the parcel to the hub", "Tell the merchant why it comes back"],
}


def on_failure_policy_decided(payload: dict) -> None:
    """Each failed or skipped stop is an exception for ops, saying why and what the policy decided."""
    order = Order.objects.select_related("organization").filter(pk=payload["order_id"]).first()
    if order is None:
        return
    decision = failure_decision_get(organization=order.organization, stop_id=payload["stop_id"])
    if decision is None:
        return
    route = Route.objects.filter(pk=decision.route_id).select_related("driver").first()
    exception_raise(
        organization=order.organization,
        kind="failed_attempt",
        # One per stop: a re-attempt that fails again is a new exception.
        cause=f"failed_attempt:stop:{decision.stop_id}",
        message=f"{order.merchant_reference}: {decision.summary()}",
        order=order,
        route=route,
        driver=route.driver if route is not None else None,
        severity="critical" if decision.action == FailureAction.RETURN else "warning",
        suggested_actions=FAILURE_SUGGESTIONS[decision.action],
    )


def may_have_address_issue(payload: dict) -> bool:
    """An event that says the address is fine needs no look at the order."""
    return bool(payload.get("address_issue", True))


def on_order_address(payload: dict) -> None:
    order = Order.objects.select_related("organization").get(pk=payload["order_id"])
    if order.address_issue:
        exception_raise(
            organization=order.organization,
            kind="address_issue",
            cause=f"address_issue:order:{order.pk}",
            message=f"{order.merchant_reference}: {order.address_issue_detail}",
            order=order,
            severity="info",
        )


def on_plan_optimized(payload: dict) -> None:
    overflow = PlanUnassigned.objects.filter(plan_id=payload["plan_id"], reason="capacity").select_related("plan")
    count = overflow.count()
    if count:
        plan = overflow.first().plan
        exception_raise(
            organization=plan.organization,
            kind="capacity_overflow",
            cause=f"capacity_overflow:plan:{plan.pk}",
            message=f"{count} orders of the {plan.date} plan do not fit the fleet's capacity.",
            severity="warning",
        )


def on_reaction_failed(failure: FailedDelivery) -> None:
    """A domain event's reaction failed its last retry: ops see it in the exception feed."""
    organization = Organization.objects.filter(pk=failure.payload.get("organization_id")).first()
    if organization is None:
        return  # not an organization's event: the outbox's error log is where it shows
    order = Order.objects.filter(pk=failure.payload.get("order_id"), organization=organization).first()
    exception_raise(
        organization=organization,
        kind="reaction_failed",
        cause=f"reaction_failed:event:{failure.event_id}:{failure.subscriber}"[:120],
        message=f"Event {failure.name} #{failure.event_id}: {failure.subscriber} failed {failure.attempts} times "
        f"({failure.error})",
        order=order,
        severity="critical",
    )
