"""The failed-delivery policy's decisions: their vocabulary, and the reads other apps need.

A decision is taken once per failed or skipped stop (`dispatch.execution.policy`) and recorded in
the order's history, as an `OrderEvent` of kind `failure_policy_decided` whose details are
`FailureDecision.as_details()`. Tracking reads decisions here to tell ops what happened at the
door and what comes next; the tracking page asks whether the customer is to pick a new slot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import models
from django.db.models import Subquery

from dispatch.models import FailureReason, Stop, StopStatus
from orders.lifecycle import OrderStatus
from orders.models import Order, OrderEvent

DECIDED = "failure_policy_decided"


class FailureAction(models.TextChoices):
    REATTEMPT = "reattempt_same_day", "Re-attempt later the same day"
    NEXT_SLOT = "next_slot", "Rescheduled into the next feasible slot"
    CUSTOMER_PICKS = "customer_picks", "Rescheduled; the customer picks a slot"
    RETURN = "return_to_hub", "Returned to the hub"


class ReturnCause(models.TextChoices):
    """Why an order goes back to the hub instead of being tried again."""

    MAX_ATTEMPTS = "max_attempts", "maximum attempts reached"
    NO_SLOT = "no_slot", "no feasible slot in the next days"
    NO_RESCHEDULE = "no_reschedule", "the sender does not reschedule"
    # The reason itself says why (refused, damaged): nothing to add.
    REASON = "reason", ""


@dataclasses.dataclass(frozen=True)
class FailureDecision:
    action: str
    stop_id: int
    order_id: int
    route_id: int
    # The stop's status: "failed" (an attempt at the door) or "skipped" (never attempted).
    outcome: str
    reason: str
    note: str
    attempts: int
    max_attempts: int
    return_cause: str = ""
    # The re-attempt's stop and its planned arrival (ISO, the hub's zone).
    new_stop_id: int | None = None
    planned_arrival: str | None = None
    # The slot the order was moved to (ISO, the hub's zone).
    slot_start: str | None = None
    slot_end: str | None = None

    def as_details(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_details(cls, details: dict) -> FailureDecision:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in details.items() if name in names})

    def summary(self) -> str:
        """One line for ops and the order's history.

        e.g. "Failed: customer not at home (attempt 1 of 3) — re-attempt later today on route 12".
        """
        if self.outcome == "skipped":
            head = f"Skipped: {self._reason_text()} ({self.attempts} of {self.max_attempts} attempts made)"
        else:
            head = f"Failed: {self._reason_text()} (attempt {self.attempts} of {self.max_attempts})"
        return f"{head} — {self._next_text()}"

    def _reason_text(self) -> str:
        if not self.reason:
            return "no reason given"
        label = str(FailureReason(self.reason).label) if self.reason in FailureReason.values else self.reason
        text = label[:1].lower() + label[1:]
        if self.reason == FailureReason.OTHER and self.note:
            text = f"{text}: {self.note[:100]}"
        return text

    def _next_text(self) -> str:
        if self.action == FailureAction.REATTEMPT:
            text = f"re-attempt later today on route {self.route_id}"
            if self.planned_arrival:
                text += f", about {dt.datetime.fromisoformat(self.planned_arrival):%H:%M}"
            return text
        if self.action == FailureAction.NEXT_SLOT and self.slot_start and self.slot_end:
            start, end = dt.datetime.fromisoformat(self.slot_start), dt.datetime.fromisoformat(self.slot_end)
            return f"rescheduled to {start:%a} {start.day} {start:%b %H:%M}–{end:%H:%M}"
        if self.action == FailureAction.CUSTOMER_PICKS:
            return "rescheduled; the customer picks a new slot on the tracking page"
        cause = ReturnCause(self.return_cause).label if self.return_cause in ReturnCause.values else ""
        return f"returned to the hub ({cause})" if cause else "returned to the hub"


def failure_decision_get(*, organization, stop_id: int) -> FailureDecision | None:
    """The decision taken for a failed or skipped stop, or None while none has been taken."""
    event = (
        OrderEvent.objects.filter(
            order__organization=organization,
            order_id=Subquery(Stop.objects.filter(pk=stop_id).values("order_id")[:1]),
            kind=DECIDED,
            details__stop_id=stop_id,
        )
        .order_by("id")
        .first()
    )
    return FailureDecision.from_details(event.details) if event is not None else None


def failure_decision_list(*, organization, order: Order) -> list[FailureDecision]:
    """Every decision taken for an order, oldest first (one per failed or skipped stop)."""
    events = OrderEvent.objects.filter(order__organization=organization, order=order, kind=DECIDED).order_by("id")
    return [FailureDecision.from_details(event.details) for event in events]


def failure_awaits_customer_slot(*, organization, order: Order) -> bool:
    """The policy let the customer pick a new slot, and no new window has been set since."""
    if order.status != OrderStatus.RESCHEDULED:
        return False
    history = OrderEvent.objects.filter(order__organization=organization, order=order)
    last = history.filter(kind=DECIDED).order_by("-id").first()
    if last is None or last.details.get("action") != FailureAction.CUSTOMER_PICKS:
        return False
    later = history.filter(kind="order_updated", id__gt=last.pk).values_list("details", flat=True)
    return not any("time_windows" in details.get("changed", []) for details in later)


def failure_policy_applies(*, order_id: int) -> bool:
    """The order has a stop on a route, so the policy decides after its failure (and ops hear of it then)."""
    return Stop.objects.filter(order_id=order_id).exclude(status=StopStatus.DROPPED).exists()
