from django.db import models

from common import clock


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
