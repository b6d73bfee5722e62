"""Executing a route: the driver's actions as they reached the server, and the proofs of delivery.

Every action the driver app sends (start shift, depart, arrive, complete, fail, skip, end shift)
carries an id the phone generated; `DriverAction` keeps it with the outcome the server answered,
so a replayed action (the phone lost the answer, or synced twice) gets the same answer and changes
nothing. Arrivals and departures the server derives from positions (the geofence) are actions too,
with a server-made id, so the history of a stop reads the same whoever moved it.
"""

from django.db import models

from common import clock


class ActionKind(models.TextChoices):
    START_SHIFT = "start_shift"
    DEPART = "depart"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    FAIL = "fail"
    SKIP = "skip"
    END_SHIFT = "end_shift"
    # Derived by the server from positions, never sent by the app.
    GEOFENCE_ARRIVE = "geofence_arrive"
    GEOFENCE_DEPART = "geofence_depart"


class ActionOutcome(models.TextChoices):
    APPLIED = "applied"
    # Refused for a reason the phone cannot fix by retrying (order cancelled, stop moved to another
    # route, a proof missing): stored, answered the same on every replay, shown to the driver.
    REJECTED = "rejected"


class FailureReason(models.TextChoices):
    """One taxonomy for failed deliveries, shared by the app, the API, exceptions and analytics."""

    CUSTOMER_ABSENT = "customer_absent", "Customer not at home"
    ADDRESS_WRONG = "address_wrong", "Address wrong or not found"
    REFUSED = "refused", "Refused by the recipient"
    DAMAGED = "damaged", "Parcel damaged"
    NO_SAFE_PLACE = "no_safe_place", "No safe place to leave it"
    ACCESS_RESTRICTED = "access_restricted", "Access restricted"
    OUT_OF_TIME = "out_of_time", "Out of time"
    VEHICLE_ISSUE = "vehicle_issue", "Vehicle issue"
    OTHER = "other", "Other"


class DriverAction(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    driver = models.ForeignKey("dispatch.Driver", on_delete=models.CASCADE, related_name="actions")
    # The phone's id for the action (a UUID): the idempotency key of the sync.
    client_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    route = models.ForeignKey("dispatch.Route", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    stop = models.ForeignKey("dispatch.Stop", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    device_at = models.DateTimeField(help_text="When the phone recorded the action (its own clock)")
    received_at = models.DateTimeField(default=clock.now, help_text="When the server applied or refused it")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    actor = models.CharField(max_length=150, help_text="user:<name> or system (geofence)")
    payload = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=10, choices=ActionOutcome.choices)
    # The answer given the first time, given again to every replay of the same client_id.
    response = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.UniqueConstraint(fields=["driver", "client_id"], name="uniq_action_per_driver")]
        indexes = [models.Index(fields=["stop", "received_at"])]

    def __str__(self):
        return f"{self.kind} {self.client_id} ({self.outcome})"


class ProofKind(models.TextChoices):
    SIGNATURE = "signature"
    PHOTO = "photo"


class DeliveryProof(models.Model):
    """A file captured at the door (a drawn signature, a photo), uploaded before the action using it.

    Files go through Django's storage API; ops view them through signed, expiring URLs. A proof
    is attached to a stop when the action that completes (or fails) the stop names it.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    driver = models.ForeignKey("dispatch.Driver", on_delete=models.CASCADE, related_name="proofs")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="proofs")
    stop = models.ForeignKey("dispatch.Stop", on_delete=models.CASCADE, related_name="proofs")
    client_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=12, choices=ProofKind.choices)
    file = models.FileField(upload_to="proofs/%Y/%m/%d/")
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    width_px = models.PositiveIntegerField(null=True, blank=True)
    height_px = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    captured_at = models.DateTimeField(help_text="The phone's time of capture")
    uploaded_at = models.DateTimeField(default=clock.now)
    # Set when an action used the proof (the completion, or a failure's photo).
    action = models.ForeignKey(DriverAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="proofs")

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["driver", "client_id"], name="uniq_proof_per_driver")]

    def __str__(self):
        return f"{self.kind} for order {self.order_id}"
