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
