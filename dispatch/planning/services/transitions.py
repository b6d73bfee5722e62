"""The one writer of plan and stop statuses, and the vocabulary of their history.

Every status a plan or a stop takes goes through `plan_transition` or `stop_transition`: locked,
checked against the table in `dispatch.models.planning`, saved with the fields that travel with
the move, recorded as one history row, announced after commit.
"""

from collections.abc import Mapping
from typing import Any

from accounts.tenancy import Actor
from common.lifecycle import actor_label, transition
from dispatch.models import PLAN_LIFECYCLE, STOP_LIFECYCLE, Plan, PlanEvent, Stop, StopEvent
from dispatch.planning.services.locks import plan_lock


def plan_created(plan: Plan, actor: str) -> PlanEvent:
    return PlanEvent(plan=plan, kind="plan_created", actor=actor, to_status=plan.status)


def plan_status_changed(
    plan: Plan, actor: str, *, previous: str, reason: str = "", details: dict | None = None
) -> PlanEvent:
    return PlanEvent(
        plan=plan,
        kind=PLAN_LIFECYCLE.events[plan.status],
        actor=actor,
        from_status=previous,
        to_status=plan.status,
        reason=reason[:300],
        details=details or {},
    )


def stop_status_changed(
    stop: Stop, actor: str, *, previous: str, reason: str = "", details: dict | None = None
) -> StopEvent:
    return StopEvent(
        stop=stop,
        kind=STOP_LIFECYCLE.events[stop.status],
        actor=actor,
        from_status=previous,
        to_status=stop.status,
        reason=reason[:300],
        details=details or {},
    )


def plan_event_payload(plan: Plan, previous: str) -> dict:
    return {
        "plan_id": plan.pk,
        "organization_id": plan.organization_id,
        "hub_id": plan.hub_id,
        "date": plan.date.isoformat(),
    }


def plan_transition(
    *,
    actor: Actor | None,
    plan: Plan,
    to_status: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
    details: dict | None = None,
) -> Plan:
    """The only way a plan changes status; each move bumps the version, so older copies reload."""
    label = actor_label(actor)
    return transition(
        plan,
        lifecycle=PLAN_LIFECYCLE,
        to_status=to_status,
        lock=lambda row: plan_lock(plan_id=row.pk),
        fields=lambda locked: {**(fields or {}), "version": locked.version + 1},
        record=lambda locked, previous: plan_status_changed(
            locked, label, previous=previous, reason=reason, details=details
        ),
        payload=plan_event_payload,
    )


def stop_transition(
    *,
    actor: Actor | None,
    stop: Stop,
    to_status: str,
    reason: str = "",
    details: dict | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Stop:
    """The only way a stop changes status (callers editing a plan hold its lock first: plan, route, stop).

    `fields` travel with the move (the times and records of execution: arrived_at, completed_at...).
    """
    label = actor_label(actor)
    return transition(
        stop,
        lifecycle=STOP_LIFECYCLE,
        to_status=to_status,
        fields=fields,
        record=lambda locked, previous: stop_status_changed(
            locked, label, previous=previous, reason=reason, details=details
        ),
        payload=lambda locked, previous: {
            "stop_id": locked.pk,
            "route_id": locked.route_id,
            "order_id": locked.order_id,
            "from": previous,
        },
    )
