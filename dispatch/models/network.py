import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from common.geo import haversine_m, point_in_polygon
from common.models import TimeStampedModel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LATITUDE = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE = [MinValueValidator(-180), MaxValueValidator(180)]


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA time zone.")


class Hub(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="hubs")
    name = models.CharField(max_length=120)
    code = models.SlugField(max_length=40, help_text="Short code used by merchants, e.g. hel-1")
    address = models.CharField(max_length=300)
    lat = models.FloatField(validators=LATITUDE)
    lng = models.FloatField(validators=LONGITUDE)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # {"mon": [["08:00", "20:00"]], ...}; a missing day means closed.
    opening_hours = models.JSONField(default=dict, blank=True)
    service_radius_km = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    # [[lat, lng], ...]; when both are set a point must be inside both.
    service_polygon = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="uniq_hub_code_per_org")]

    def __str__(self):
        return self.name

    def covers(self, lat: float, lng: float) -> bool:
        """Whether a point lies in this hub's service area (no area set means no limit)."""
        radius_m = None if self.service_radius_km is None else self.service_radius_km * 1000
        if radius_m is not None and haversine_m(self.lat, self.lng, lat, lng) > radius_m:
            return False
        if self.service_polygon:
            return point_in_polygon(lat, lng, self.service_polygon)
        return True

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class VehicleType(models.TextChoices):
    BIKE = "bike", "Cargo bike"
    SCOOTER = "scooter", "Scooter"
    CAR = "car", "Car"
    VAN = "van", "Van"
    TRUCK = "truck", "Truck"
    # Travels on OSRM's foot profile when road data is on (routing.OSRM_PROFILES).
    FOOT = "foot", "Walking courier"


class Vehicle(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="vehicles")
    name = models.CharField(max_length=80)
    type = models.CharField(max_length=16, choices=VehicleType.choices, default=VehicleType.VAN)
    electric = models.BooleanField(default=False)
    capacity_kg = models.FloatField(default=0, validators=[MinValueValidator(0)])
    capacity_m3 = models.FloatField(default=0, validators=[MinValueValidator(0)])
    capacity_parcels = models.PositiveIntegerField(default=0)
    cost_fixed_per_day = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    cost_per_km = models.DecimalField(max_digits=8, decimal_places=3, default=0, validators=[MinValueValidator(0)])
    cost_per_hour = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    emissions_g_co2_per_km = models.FloatField(default=0, validators=[MinValueValidator(0)])
    range_km = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    skills = models.JSONField(default=list, blank=True)
    home_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="vehicles")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Driver(TimeStampedModel):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="drivers")
    user = models.OneToOneField(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="driver_profile",
        null=True,
        blank=True,
    )
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=32, blank=True)
    home_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="drivers")
    skills = models.JSONField(default=list, blank=True)
    # {"mon": {"start": "08:00", "end": "17:00", "breaks": [{"start": "12:00", "end": "12:30"}]}, ...}
    weekly_shifts = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else ""

    def shift_on(self, day: dt.date) -> dict | None:
        """The shift for a date: a day override wins over the weekly pattern; None is a day off."""
        override = next((o for o in self.shift_overrides.all() if o.date == day), None)
        if override is not None:
            return None if override.off else override.as_shift()
        return self.weekly_shifts.get(WEEKDAYS[day.weekday()])


class DriverShiftOverride(models.Model):
    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="shift_overrides")
    date = models.DateField()
    off = models.BooleanField(default=False)
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)
    breaks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["driver", "date"], name="uniq_override_per_day")]

    def __str__(self):
        return f"{self.driver} {self.date}"

    def clean(self):
        if not self.off and (self.start is None or self.end is None):
            raise ValidationError("A working override needs a start and an end.")
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The shift must end after it starts."})

    def as_shift(self) -> dict:
        return {
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "breaks": self.breaks,
        }
