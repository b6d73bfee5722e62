"""Operational exceptions: raised once per cause, acknowledged, assigned and resolved by ops.

Every change appends an ExceptionEvent; raising publishes `exception_raised` (domain event, for
notifications) and an `exception.raised` push to the control tower, both after commit. Status
changes go through `exception_transition` only.
"""

import datetime as dt

from django.db import IntegrityError, transaction

from common import clock, events
from common.lifecycle import actor_label, transition
from common.realtime import tower_publish
from tracking.models import EXCEPTION_LIFECYCLE, DeliveryException, ExceptionEvent, ExceptionStatus
from tracking.serializers import DeliveryExceptionSerializer

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


def exception_raise(
    *,
    organization,
    kind: str,
    cause: str,
    message: str,
    severity: str = "warning",
    order=None,
    route=None,
    driver=None,
    suggested_actions: list[str] | None = None,
) -> DeliveryException | None:
    """Raise an exception unless the same cause is open, or was resolved less than 30 minutes ago.

    `suggested_actions` replaces the kind's usual suggestions when the cause calls for others.
    """
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
                suggested_actions=suggested_actions if suggested_actions is not None else SUGGESTIONS.get(kind, []),
            )
            exception_raised(exception, note=message).save()
            _announce(exception, "exception.raised")
            events.publish_on_commit(events.EXCEPTION_RAISED, {"exception_id": exception.pk, "kind": kind})
    except IntegrityError:
        return None  # raised concurrently by another worker: that one stands
    return exception


def _announce(exception: DeliveryException, push_type: str) -> None:
    exception_data = DeliveryExceptionSerializer(exception).data
    tower_publish(exception.organization_id, {"type": push_type, "exception": exception_data})


# --- History: one constructor per event kind ----------------------------------------------------


def exception_raised(exception: DeliveryException, *, note: str) -> ExceptionEvent:
    return ExceptionEvent(
        exception=exception, kind="raised", actor="system", to_status=exception.status, note=note[:1000]
    )


def exception_status_changed(exception: DeliveryException, actor: str, *, previous: str, note: str) -> ExceptionEvent:
    # The kind is the status reached ("acknowledged", "resolved"), as the tower's history lists it.
    return ExceptionEvent(
        exception=exception,
        kind=exception.status,
        actor=actor,
        from_status=previous,
        to_status=exception.status,
        note=note[:1000],
    )


def exception_assigned(exception: DeliveryException, actor: str, *, note: str) -> ExceptionEvent:
    return ExceptionEvent(exception=exception, kind="assigned", actor=actor, note=note[:1000])


# --- Changes --------------------------------------------------------------------------------------


def exception_transition(
    *, actor, exception: DeliveryException, to_status: str, note: str = "", fields: dict | None = None
) -> DeliveryException:
    """The only way an exception changes status; the tower hears of it after commit."""
    label = actor_label(actor)
    with transaction.atomic():
        locked = transition(
            exception,
            lifecycle=EXCEPTION_LIFECYCLE,
            to_status=to_status,
            fields=fields,
            record=lambda row, previous: exception_status_changed(row, label, previous=previous, note=note),
            payload=lambda row, previous: {"exception_id": row.pk, "kind": row.kind, "from": previous},
        )
        _announce(locked, "exception.updated")
    return locked


def exception_acknowledge(*, actor, exception: DeliveryException, note: str = "") -> DeliveryException:
    return exception_transition(actor=actor, exception=exception, to_status=ExceptionStatus.ACKNOWLEDGED, note=note)


def exception_assign(*, actor, exception: DeliveryException, user, note: str = "") -> DeliveryException:
    with transaction.atomic():
        locked = DeliveryException.objects.select_for_update().get(pk=exception.pk)
        if locked.status in EXCEPTION_LIFECYCLE.terminal:
            # A closed exception takes no more changes; refused like any move out of its final status.
            EXCEPTION_LIFECYCLE.check(locked.status, ExceptionStatus.RESOLVED)
        locked.assigned_to = user
        locked.save(update_fields=["assigned_to"])
        exception_assigned(locked, actor_label(actor), note=note or f"assigned to {user.username}").save()
        _announce(locked, "exception.updated")
    return locked


def exception_resolve(*, actor, exception: DeliveryException, note: str) -> DeliveryException:
    fields = {"resolved_at": clock.now()}
    return exception_transition(
        actor=actor, exception=exception, to_status=ExceptionStatus.RESOLVED, note=note, fields=fields
    )
