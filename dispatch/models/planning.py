"""Daily plans: one plan per hub, day and wave; its routes, their stops, and what was left out.

Lock order, everywhere: plan, then route, then stop; several rows of one model are locked in
primary-key order (see `dispatch.planning.services.locks`). Edits are optimistic on top of that: every
change bumps `Plan.version`, and a caller holding an older version is refused.
"""

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from common import events
from common.lifecycle import HistoryEvent, InvalidTransition, Lifecycle, presented
from common.models import TimeStampedModel


class PlanStatus(models.TextChoices):
    DRAFT = "draft"
    OPTIMIZING = "optimizing"
    OPTIMIZED = "optimized"
    FAILED = "failed"
    DISPATCHED = "dispatched"


P = PlanStatus
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    P.DRAFT: frozenset({P.OPTIMIZING}),
    P.OPTIMIZING: frozenset({P.OPTIMIZED, P.FAILED}),
    # Re-optimizing an optimized plan keeps its locked stops and routes.
    P.OPTIMIZED: frozenset({P.OPTIMIZING, P.DISPATCHED}),
    P.FAILED: frozenset({P.OPTIMIZING}),
    P.DISPATCHED: frozenset(),
}
PLAN_EVENTS = {
    P.OPTIMIZING: events.PLAN_OPTIMIZING,
    P.OPTIMIZED: events.PLAN_OPTIMIZED,
    P.FAILED: events.PLAN_FAILED,
    P.DISPATCHED: events.PLAN_DISPATCHED,
}
# A plan in these statuses holds its orders: they are not offered to another plan.
ACTIVE_STATUSES = frozenset({P.DRAFT, P.OPTIMIZING, P.OPTIMIZED, P.DISPATCHED})
EDITABLE_STATUSES = frozenset({P.OPTIMIZED, P.DISPATCHED})


# Counted over the routes by `plan_totals_refresh`, saved with whatever changed the routes.
PLAN_TOTAL_FIELDS = (
    "total_distance_m",
    "total_duration_s",
    "total_cost",
    "total_emissions_g",
    "stop_count",
    "unassigned_count",
)


class Objective(models.TextChoices):
    COST = "cost"
    DISTANCE = "distance"
    TIME = "time"
    BALANCE = "balance"


class InvalidPlanTransition(InvalidTransition):
    code = "invalid_plan_transition"

    # Plans said it this way before the lifecycles shared one helper; clients may read it.
    def describe(self, *, noun, current, target, allowed):
        return f"A {current} plan cannot become {target}; allowed: {', '.join(allowed) or 'none'}."

    def describe_details(self, *, current, target, allowed):
        return {"current": current, "target": target, "allowed": allowed}


PLAN_LIFECYCLE = Lifecycle("plan", PLAN_TRANSITIONS, PLAN_EVENTS, error=InvalidPlanTransition)
PLAN_STALE_ERROR = "The optimizer stopped responding (its worker was lost). Retry to optimize again."


class Plan(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="plans")
    hub = models.ForeignKey("dispatch.Hub", on_delete=models.PROTECT, related_name="plans")
    date = models.DateField()
    wave = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    objective = models.CharField(max_length=12, choices=Objective.choices, default=Objective.COST)
    time_budget_s = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(600)])
    allow_drop = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT, db_index=True)
    version = models.PositiveIntegerField(default=1)
    # Progress of the current optimization (written by the worker, read by the board).
    progress_pct = models.PositiveSmallIntegerField(default=0)
    best_cost = models.BigIntegerField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Numbers each optimization run; the task carries it, and a run of an older attempt writes nothing.
    attempt = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=300, blank=True, help_text="Outcome for people, e.g. nothing to plan")
    # Totals over the routes (cost in cents).
    total_distance_m = models.PositiveIntegerField(default=0)
    total_duration_s = models.PositiveIntegerField(default=0)
    total_cost = models.BigIntegerField(default=0)
    total_emissions_g = models.FloatField(default=0)
    stop_count = models.PositiveIntegerField(default=0)
    unassigned_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-date", "hub_id", "wave"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "date", "wave"], name="uniq_plan_wave_per_hub_day"),
        ]

    def __str__(self):
        return f"{self.hub_id} {self.date} wave {self.wave}"

    def can_transition(self, target: str) -> bool:
        return PLAN_LIFECYCLE.can(self.status, target)

    def last_heard_at(self) -> dt.datetime | None:
        return self.heartbeat_at or self.started_at

    def is_stale(self, *, now: dt.datetime, after_s: float, unclaimed_after_s: float | None = None) -> bool:
        """An optimization whose worker stopped beating (killed mid-solve), or whose message was lost.

        Only a run a worker has claimed beats (the claim sets `heartbeat_at`): one still waiting in the
        queue behind other solves is not dead, until `unclaimed_after_s` says its message is gone.
        """
        if self.status != PlanStatus.OPTIMIZING:
            return False
        if self.heartbeat_at is not None:
            return (now - self.heartbeat_at).total_seconds() > after_s
        return (
            unclaimed_after_s is not None
            and self.started_at is not None
            and (now - self.started_at).total_seconds() > unclaimed_after_s
        )

    def as_read(self, *, now: dt.datetime, after_s: float, unclaimed_after_s: float | None = None) -> "Plan":
        """The plan as readers see it: a stale optimization shows as the failure the sweeper will record."""
        if not self.is_stale(now=now, after_s=after_s, unclaimed_after_s=unclaimed_after_s):
            return self
        return presented(self, status=PlanStatus.FAILED, error=PLAN_STALE_ERROR, finished_at=self.last_heard_at())


class Route(TimeStampedModel):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="routes")
    vehicle = models.ForeignKey("dispatch.Vehicle", on_delete=models.PROTECT, related_name="routes")
    driver = models.ForeignKey("dispatch.Driver", on_delete=models.PROTECT, related_name="routes", null=True)
    color = models.CharField(max_length=7, default="#0b6bcb")
    locked = models.BooleanField(default=False)
    broken_down = models.BooleanField(default=False)
    distance_m = models.PositiveIntegerField(default=0)
    duration_s = models.PositiveIntegerField(default=0)
    cost = models.BigIntegerField(default=0)
    emissions_g = models.FloatField(default=0)
    load_kg = models.PositiveIntegerField(default=0)
    load_dm3 = models.PositiveIntegerField(default=0)
    load_parcels = models.PositiveIntegerField(default=0)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    breaks = models.JSONField(default=list, blank=True)
    # Rules a forced manual edit broke; shown on the board until an edit fixes them.
    violations = models.JSONField(default=list, blank=True)
    # The driver's shift on this route (dispatch.execution): started with a vehicle and load check.
    shift_started_at = models.DateTimeField(null=True, blank=True)
    shift_ended_at = models.DateTimeField(null=True, blank=True)
    vehicle_check = models.JSONField(default=dict, blank=True)
    load_check = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["plan_id", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "vehicle"], name="uniq_route_vehicle_per_plan")]

    def __str__(self):
        return f"route {self.pk} of plan {self.plan_id}"


class StopStatus(models.TextChoices):
    PLANNED = "planned"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    DROPPED = "dropped"


SS = StopStatus
# The stop is what the driver executes (dispatch.execution); its order follows it (en route and
# arrived move the order on, done delivers it, failed and skipped fail it). A stop is dropped when it
# leaves its route before being served. En route may go back to planned: the driver headed to
# another stop first. Planned may jump to arrived (the geofence saw the driver there without a
# "depart" tap) or straight to done/failed (a dispatcher records the outcome for the driver).
STOP_TRANSITIONS: dict[str, frozenset[str]] = {
    SS.PLANNED: frozenset({SS.EN_ROUTE, SS.ARRIVED, SS.DONE, SS.FAILED, SS.SKIPPED, SS.DROPPED}),
    SS.EN_ROUTE: frozenset({SS.PLANNED, SS.ARRIVED, SS.DONE, SS.FAILED, SS.SKIPPED, SS.DROPPED}),
    SS.ARRIVED: frozenset({SS.DONE, SS.FAILED}),
    SS.DONE: frozenset(),
    SS.FAILED: frozenset(),
    SS.SKIPPED: frozenset(),
    SS.DROPPED: frozenset(),
}
STOP_EVENTS = {
    SS.PLANNED: events.STOP_PLANNED,
    SS.EN_ROUTE: events.STOP_EN_ROUTE,
    SS.ARRIVED: events.STOP_ARRIVED,
    SS.DONE: events.STOP_DONE,
    SS.FAILED: events.STOP_FAILED,
    SS.SKIPPED: events.STOP_SKIPPED,
    SS.DROPPED: events.STOP_DROPPED,
}
# Stops that are over: served (done), attempted without success (failed), or never attempted.
STOP_CLOSED = frozenset({SS.DONE, SS.FAILED, SS.SKIPPED, SS.DROPPED})
# Stops still to serve, in the driver's order.
STOP_OPEN = frozenset({SS.PLANNED, SS.EN_ROUTE, SS.ARRIVED})


class InvalidStopTransition(InvalidTransition):
    code = "invalid_stop_transition"


STOP_LIFECYCLE = Lifecycle("stop", STOP_TRANSITIONS, STOP_EVENTS, error=InvalidStopTransition)


class ArrivalSource(models.TextChoices):
    DRIVER = "driver", "Tapped by the driver"
    GEOFENCE = "geofence", "Detected from positions"
    DISPATCHER = "dispatcher", "Recorded by a dispatcher"


class Stop(TimeStampedModel):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="stops")
    sequence = models.PositiveIntegerField()
    planned_arrival = models.DateTimeField()
    planned_departure = models.DateTimeField()
    locked = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=StopStatus.choices, default=StopStatus.PLANNED)
    # What happened on the road (dispatch.execution). Service time is measured from arrival to
    # departure (the geofence's or the next "depart"), else to completion; it feeds analytics.
    en_route_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    arrival_source = models.CharField(max_length=12, choices=ArrivalSource.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    service_seconds = models.PositiveIntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=24, blank=True)
    failure_note = models.CharField(max_length=500, blank=True)
    # The delivery record, with the proofs (files in DeliveryProof): who took it, cash taken, the
    # customer's one-time code checked, and for pickups and returns what was collected.
    recipient_name = models.CharField(max_length=200, blank=True)
    cash_collected = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    code_verified = models.BooleanField(default=False)
    collected_items = models.JSONField(default=list, blank=True)
    damage_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["route_id", "sequence"]
        constraints = [
            # One live stop per order; dropped, failed and skipped stops stay as history (a failed
            # order re-attempted the same day gets a new stop).
            models.UniqueConstraint(
                fields=["order"],
                condition=~Q(status__in=["dropped", "failed", "skipped"]),
                name="uniq_active_stop_per_order",
            ),
        ]

    def __str__(self):
        return f"stop {self.sequence} of route {self.route_id}"

    def is_fixed(self) -> bool:
        """Under way or over: live changes never move it."""
        return self.status not in (StopStatus.PLANNED, StopStatus.DROPPED)


class PlanEvent(HistoryEvent):
    """Append-only history of a plan: created, then each status it took."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="events")


class StopEvent(HistoryEvent):
    """Append-only history of a stop's status (its stop goes when a re-optimization replaces it)."""

    stop = models.ForeignKey(Stop, on_delete=models.CASCADE, related_name="events")


class PlanUnassigned(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="unassigned")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=24)
    message = models.CharField(max_length=300)

    class Meta:
        ordering = ["plan_id", "order_id"]
        constraints = [models.UniqueConstraint(fields=["plan", "order"], name="uniq_unassigned_per_plan")]

    def __str__(self):
        return f"{self.order_id} unassigned ({self.reason})"
