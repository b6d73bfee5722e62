"""The order lifecycle as data: statuses and the moves allowed from each."""

from django.db import models


class OrderStatus(models.TextChoices):
    CREATED = "created"
    VALIDATED = "validated"
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"
    RESCHEDULED = "rescheduled"
    RETURNED = "returned"
    CANCELLED = "cancelled"


S = OrderStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.VALIDATED, S.CANCELLED}),
    # validated <- planned/dispatched: the order was taken off a plan or route before leaving.
    S.VALIDATED: frozenset({S.PLANNED, S.CANCELLED}),
    S.PLANNED: frozenset({S.DISPATCHED, S.VALIDATED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.OUT_FOR_DELIVERY, S.VALIDATED, S.CANCELLED}),
    S.OUT_FOR_DELIVERY: frozenset({S.ARRIVED, S.FAILED}),
    S.ARRIVED: frozenset({S.DELIVERED, S.FAILED}),
    S.FAILED: frozenset({S.RESCHEDULED, S.RETURNED}),
    # A rescheduled order waits for a new plan, like a validated one.
    S.RESCHEDULED: frozenset({S.PLANNED, S.CANCELLED}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}
TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
EDITABLE = frozenset({S.CREATED, S.VALIDATED, S.PLANNED, S.RESCHEDULED})

# Who may record an arrival in a status, where not every writer may. Delivered and failed are what
# happened at the door, and they carry the proof the order asks for (signature, photo, reason):
# the driver records them, or a dispatcher (or admin) correcting one. A merchant's API key was not
# there. Returned stays open to keys: after a failed delivery, having the parcel sent back rather
# than attempted again is the sender's decision, like rescheduling, and needs no proof from the door.
API_KEY = "api_key"
DOORSTEP_RECORDERS = frozenset({"admin", "dispatcher", "driver"})
RECORDED_BY: dict[str, frozenset[str]] = {
    S.DELIVERED: DOORSTEP_RECORDERS,
    S.FAILED: DOORSTEP_RECORDERS,
}


def may_record(*, actor_kind: str | None, target: str) -> bool:
    """`actor_kind` is a user's role, API_KEY, or None for the system (plans, sweeps, imports)."""
    if actor_kind is None or target not in RECORDED_BY:
        return True
    return actor_kind in RECORDED_BY[target]
