"""Operational exceptions: raised once per cause, acknowledged, assigned and resolved by ops.

Every change appends an ExceptionEvent; raising publishes `exception_raised` (domain event, for
notifications) and an `exception.raised` push to the control tower, both after commit.
"""

import datetime as dt

from django.db import IntegrityError, transaction

from common import clock, events
from tracking.broadcast import tower_publish
from tracking.models import DeliveryException, ExceptionEvent, ExceptionStatus

# After a cause was resolved it may be raised again, but not before this: no floods.
REARM_AFTER = dt.timedelta(minutes=30)
SUGGESTIONS = {
    "late_risk": ["Call the customer to agree a new time", "Move the stop to a nearby driver", "Reschedule the order"],
    "driver_idle": ["Call the driver", "Check for a breakdown"],
    "off_route": ["Call the driver", "Re-optimize the remaining stops"],
    "no_position": ["Call the driver", "Check the driver app is open and online"],
    "failed_attempt": ["Offer the customer the next slots", "Return the parcel to the hub"],
    "address_issue": ["Confirm the address with the customer", "Ask the merchant for coordinates"],
    "capacity_overflow": ["Add a vehicle or a wave", "Move orders to another day"],
    "reaction_failed": ["Look up the event id in the worker logs", "Make the change by hand (e.g. remove the stop)"],
}


def exception_payload(exception: DeliveryException) -> dict:
    return {
        "id": exception.pk,
        "kind": exception.kind,
        "severity": exception.severity,
        "status": exception.status,
        "message": exception.message,
        "suggested_actions": exception.suggested_actions,
        "order_id": exception.order_id,
        "route_id": exception.route_id,
        "driver_id": exception.driver_id,
        "assigned_to": exception.assigned_to.username if exception.assigned_to else None,
        "created_at": exception.created_at.isoformat(),
    }


def exception_raise(
    *, organization, kind: str, cause: str, message: str, severity: str = "warning", order=None, route=None, driver=None
) -> DeliveryException | None:
    """Raise an exception unless the same cause is open, or was resolved less than 30 minutes ago."""
    recent = clock.now() - REARM_AFTER
    live = DeliveryException.objects.filter(organization=organization, cause=cause)
    if live.exclude(status=ExceptionStatus.RESOLVED).exists() or live.filter(resolved_at__gte=recent).exists():
        return None
    try:
        with transaction.atomic():
            exception = DeliveryException.objects.create(
                organization=organization,
                kind=kind,
                cause=cause,
                message=message[:300],
                severity=severity,
                order=order,
                route=route,
                driver=driver,
                suggested_actions=SUGGESTIONS.get(kind, []),
            )
            ExceptionEvent.objects.create(exception=exception, kind="raised", actor="system", note=message[:1000])
            _announce(exception, "exception.raised")
            events.publish_on_commit(events.EXCEPTION_RAISED, {"exception_id": exception.pk, "kind": kind})
    except IntegrityError:
        return None  # raised concurrently by another worker: that one stands
    return exception


def _announce(exception: DeliveryException, push_type: str) -> None:
    tower_publish(exception.organization_id, {"type": push_type, "exception": exception_payload(exception)})


def _change(exception: DeliveryException, *, actor, kind: str, note: str, mutate) -> DeliveryException:
    with transaction.atomic():
        locked = DeliveryException.objects.select_for_update().get(pk=exception.pk)
        mutate(locked)
        locked.save()
        ExceptionEvent.objects.create(exception=locked, kind=kind, actor=actor.label, note=note)
        _announce(locked, "exception.updated")
    return locked


def exception_acknowledge(*, actor, exception: DeliveryException, note: str = "") -> DeliveryException:
    return _change(
        exception,
        actor=actor,
        kind="acknowledged",
        note=note,
        mutate=lambda e: e.apply_transition(ExceptionStatus.ACKNOWLEDGED),
    )


def exception_assign(*, actor, exception: DeliveryException, user, note: str = "") -> DeliveryException:
    def mutate(locked):
        if locked.status == ExceptionStatus.RESOLVED:
            locked.apply_transition(ExceptionStatus.RESOLVED)  # refuses with a clear 409
        locked.assigned_to = user

    return _change(exception, actor=actor, kind="assigned", note=note or f"assigned to {user.username}", mutate=mutate)


def exception_resolve(*, actor, exception: DeliveryException, note: str) -> DeliveryException:
    def mutate(locked):
        locked.apply_transition(ExceptionStatus.RESOLVED)
        locked.resolved_at = clock.now()

    return _change(exception, actor=actor, kind="resolved", note=note, mutate=mutate)


def exception_list_open(*, organization):
    return (
        DeliveryException.objects.filter(organization=organization)
        .exclude(status=ExceptionStatus.RESOLVED)
        .select_related("assigned_to")
    )
