from django.db import models

from common import clock, events
from common.lifecycle import AppendOnlyModel, Lifecycle
from tracking.errors import InvalidExceptionTransition


class DriverPosition(models.Model):
    """One GPS fix as the driver's phone recorded it (history, kept for replay and analytics)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    driver = models.ForeignKey("dispatch.Driver", on_delete=models.CASCADE, related_name="positions")
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField(default=clock.now)
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    speed_mps = models.FloatField(null=True, blank=True)
    heading_deg = models.FloatField(null=True, blank=True)
    battery_pct = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            # A phone resending a queued batch sends the same fixes again: they are duplicates.
            models.UniqueConstraint(fields=["driver", "recorded_at"], name="uniq_position_per_instant")
        ]
        indexes = [models.Index(fields=["driver", "-recorded_at"]), models.Index(fields=["received_at"])]

    def __str__(self):
        return f"{self.driver_id} @ {self.recorded_at:%H:%M:%S}"


class LatestPosition(models.Model):
    """The newest fix per driver, kept apart so "where is everyone" is one cheap query."""

    driver = models.OneToOneField(
        "dispatch.Driver", on_delete=models.CASCADE, primary_key=True, related_name="latest_position"
    )
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    recorded_at = models.DateTimeField()
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    speed_mps = models.FloatField(null=True, blank=True)
    heading_deg = models.FloatField(null=True, blank=True)
    battery_pct = models.FloatField(null=True, blank=True)

    def __str__(self):
        return f"{self.driver_id} latest @ {self.recorded_at:%H:%M:%S}"


class StopEta(models.Model):
    """The live estimate for a stop of a dispatched route, refreshed on each driver position."""

    stop = models.OneToOneField("dispatch.Stop", on_delete=models.CASCADE, primary_key=True, related_name="eta")
    eta = models.DateTimeField()
    # What the customer sees: a window around the estimate that narrows as the driver approaches.
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    late = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=clock.now)

    def __str__(self):
        return f"stop {self.stop_id} eta {self.eta:%H:%M}"


class EtaSource(models.TextChoices):
    POSITION = "position", "Re-timed from a driver position"


class EtaPrediction(AppendOnlyModel):
    """One estimate as it was shown, kept after `StopEta` moves on: what ETA error is measured from.

    A row is added each time the stop's `StopEta` is written, which happens only when the estimate
    moves by at least a minute (or the stop turns late or back; `tracking/services/eta.py`). So
    the record is exactly what customers saw, and a stop gains rows only as its estimate moves:
    a driver on plan adds none, one standing still adds about one per minute to each stop ahead.
    """

    stop = models.ForeignKey("dispatch.Stop", on_delete=models.CASCADE, related_name="eta_predictions")
    predicted_arrival = models.DateTimeField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    made_at = models.DateTimeField()
    # How far ahead the prediction looked when made (predicted arrival − made at), in whole minutes.
    horizon_minutes = models.IntegerField()
    source = models.CharField(max_length=12, choices=EtaSource.choices, default=EtaSource.POSITION)

    class Meta:
        # "The prediction in force at a moment": the stop's last one made at or before it.
        indexes = [models.Index(fields=["stop", "made_at"])]

    def __str__(self):
        return f"stop {self.stop_id} at {self.made_at:%H:%M}: {self.predicted_arrival:%H:%M}"


class ExceptionKind(models.TextChoices):
    LATE_RISK = "late_risk", "Late risk"
    DRIVER_IDLE = "driver_idle", "Driver idle"
    OFF_ROUTE = "off_route", "Off route"
    NO_POSITION = "no_position", "No position"
    FAILED_ATTEMPT = "failed_attempt", "Failed attempt"
    ADDRESS_ISSUE = "address_issue", "Address issue"
    CAPACITY_OVERFLOW = "capacity_overflow", "Capacity overflow"
    REACTION_FAILED = "reaction_failed", "Reaction failed"


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class ExceptionStatus(models.TextChoices):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


EXCEPTION_TRANSITIONS = {
    ExceptionStatus.OPEN: frozenset({ExceptionStatus.ACKNOWLEDGED, ExceptionStatus.RESOLVED}),
    ExceptionStatus.ACKNOWLEDGED: frozenset({ExceptionStatus.RESOLVED}),
    ExceptionStatus.RESOLVED: frozenset(),
}
EXCEPTION_EVENTS = {
    ExceptionStatus.ACKNOWLEDGED: events.EXCEPTION_ACKNOWLEDGED,
    ExceptionStatus.RESOLVED: events.EXCEPTION_RESOLVED,
}
EXCEPTION_LIFECYCLE = Lifecycle("exception", EXCEPTION_TRANSITIONS, EXCEPTION_EVENTS, error=InvalidExceptionTransition)


class DeliveryException(models.Model):
    """A problem ops should know about before it becomes a failed delivery; raised once per cause."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(max_length=24, choices=ExceptionKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    status = models.CharField(max_length=12, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    # What the exception is about, e.g. "late_risk:stop:12": one open exception per cause.
    cause = models.CharField(max_length=120)
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    route = models.ForeignKey("dispatch.Route", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    driver = models.ForeignKey("dispatch.Driver", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=300)
    suggested_actions = models.JSONField(default=list, blank=True)
    assigned_to = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "cause"],
                condition=~models.Q(status="resolved"),
                name="uniq_open_exception_cause",
            )
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self):
        return f"{self.kind} ({self.status})"


class ExceptionEvent(AppendOnlyModel):
    """Append-only history of an exception: raised, acknowledged, assigned, resolved."""

    exception = models.ForeignKey(DeliveryException, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    at = models.DateTimeField(default=clock.now)
    actor = models.CharField(max_length=150)
    # Blank for events that change no status (assigned).
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.exception_id} {self.kind}"
