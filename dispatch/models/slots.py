"""Delivery slots: templates per hub, a lock row per slot instance, and holds with an expiry."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from common import events
from common.lifecycle import HistoryEvent, InvalidTransition, Lifecycle
from common.models import TimeStampedModel
from dispatch.models.network import WEEKDAYS, Hub


def validate_weekdays(value) -> None:
    if not isinstance(value, list) or not value or any(day not in WEEKDAYS for day in value):
        raise ValidationError("Give a non-empty list of weekdays among mon, tue, wed, thu, fri, sat, sun.")


class SlotTemplate(TimeStampedModel):
    """A window offered on some weekdays at one hub, e.g. Mon–Fri 10:00–12:00 (hub local time).

    Capacity is never typed: it is derived from drivers' shifts and vehicles (see
    dispatch/slots/capacity.py). `manual_cap` may only lower it.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="slot_templates")
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="slot_templates")
    name = models.CharField(max_length=80, blank=True)
    weekdays = models.JSONField(default=list, validators=[validate_weekdays])
    start_time = models.TimeField()
    end_time = models.TimeField()
    # One cut-off rule: minutes before the start, or a local time on the previous day.
    cutoff_minutes = models.PositiveIntegerField(null=True, blank=True)
    cutoff_previous_day_at = models.TimeField(null=True, blank=True)
    same_day_allowed = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    manual_cap = models.PositiveIntegerField(null=True, blank=True, help_text="Only lowers the derived capacity")
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["hub", "start_time", "id"]

    def __str__(self):
        return f"{self.hub.code} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The slot must end after it starts (same day)."})
        if self.cutoff_minutes is not None and self.cutoff_previous_day_at is not None:
            raise ValidationError({"cutoff_minutes": "Give cutoff_minutes or cutoff_previous_day_at, not both."})
        if self.organization_id and self.hub_id and self.hub.organization_id != self.organization_id:
            raise ValidationError({"hub": "The hub belongs to another organization."})

    def runs_on(self, day: dt.date) -> bool:
        return self.active and WEEKDAYS[day.weekday()] in self.weekdays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The slot's start and end on `day`, timezone-aware in the hub's zone."""
        tz = self.hub.tz
        return dt.datetime.combine(day, self.start_time, tzinfo=tz), dt.datetime.combine(day, self.end_time, tzinfo=tz)

    def cutoff(self, day: dt.date) -> dt.datetime:
        """The last moment a customer may book this slot on `day`."""
        start, _ = self.window(day)
        if self.cutoff_previous_day_at is not None:
            return dt.datetime.combine(day - dt.timedelta(days=1), self.cutoff_previous_day_at, tzinfo=self.hub.tz)
        return start - dt.timedelta(minutes=self.cutoff_minutes or 0)


class SlotCounter(models.Model):
    """One row per slot instance (template, date), created on demand: the row holds lock.

    Every booking decision for a slot instance (hold, confirm, reschedule) locks this row
    first, so two checkouts for the last place are serialized and only one wins.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(SlotTemplate, on_delete=models.CASCADE, related_name="counters")
    date = models.DateField()
    bookings = models.PositiveIntegerField(default=0, help_text="Holds and confirmations made (audit)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "date"], name="uniq_slot_counter")]

    def __str__(self):
        return f"{self.template} {self.date}"


class HoldStatus(models.TextChoices):
    ACTIVE = "active"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


H = HoldStatus
HOLD_TRANSITIONS: dict[str, frozenset[str]] = {
    H.ACTIVE: frozenset({H.CONFIRMED, H.RELEASED, H.EXPIRED}),
    H.CONFIRMED: frozenset(),
    H.RELEASED: frozenset(),
    H.EXPIRED: frozenset(),
}
HOLD_EVENTS = {
    H.CONFIRMED: events.SLOT_HOLD_CONFIRMED,
    H.RELEASED: events.SLOT_HOLD_RELEASED,
    H.EXPIRED: events.SLOT_HOLD_EXPIRED,
}


class InvalidHoldTransition(InvalidTransition):
    code = "invalid_slot_hold_transition"


HOLD_LIFECYCLE = Lifecycle("slot hold", HOLD_TRANSITIONS, HOLD_EVENTS, error=InvalidHoldTransition)


class SlotHold(TimeStampedModel):
    """A place kept in a slot for a checkout until `expires_at`; counts as taken while active."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="slot_holds")
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="slot_holds")
    template = models.ForeignKey(SlotTemplate, on_delete=models.CASCADE, related_name="holds")
    date = models.DateField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    lat = models.FloatField()
    lng = models.FloatField()
    load_kg = models.FloatField(default=0, validators=[MinValueValidator(0)])
    load_m3 = models.FloatField(default=0, validators=[MinValueValidator(0)])
    load_parcels = models.PositiveIntegerField(default=1)
    service_minutes = models.FloatField(default=3, validators=[MinValueValidator(0)])
    status = models.CharField(max_length=12, choices=HoldStatus.choices, default=HoldStatus.ACTIVE, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.CharField(max_length=150)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["template", "date", "status"])]

    def __str__(self):
        return f"hold {self.pk} {self.template} {self.date} ({self.status})"

    def is_active(self, *, at: dt.datetime) -> bool:
        return self.status == HoldStatus.ACTIVE and self.expires_at > at


class SlotHoldEvent(HistoryEvent):
    """Append-only history of a hold: created, then confirmed, released or expired."""

    hold = models.ForeignKey(SlotHold, on_delete=models.CASCADE, related_name="events")
