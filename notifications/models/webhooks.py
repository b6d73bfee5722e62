"""Merchant webhooks: endpoints with their signing secrets, the events sent, and each delivery.

An event is written once per domain fact and organization; a delivery is one event for one
endpoint, unique per (endpoint, event) so an outbox redelivery never sends a second copy. Each
HTTP attempt is logged in its own row (the delivery log of the UI and the API).
"""

import json

from django.db import models

from common import clock

# Endpoint secrets are Standard Webhooks secrets: "whsec_" + base64 of 32 random bytes.
SECRET_PREFIX = "whsec_"


class WebhookEndpoint(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    # Event types (notifications/webhooks/catalogue.py); an empty list subscribes to every type,
    # including types added later.
    event_types = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=200, blank=True, default="")
    active = models.BooleanField(default=True)
    # Why Waypoint switched the endpoint off (persistent failure); blank when a person did.
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Failed attempts since the last success.
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    secret = models.CharField(max_length=100)
    # After a rotation the previous secret keeps signing (a second signature) until it expires,
    # so a receiver can switch at its own pace.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self, *, at) -> list[str]:
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > at:
            secrets.append(self.previous_secret)
        return secrets


class WebhookEvent(models.Model):
    """One fact as merchants see it; `event_id` is the `webhook-id` header, the receiver's dedupe key."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=64)
    # The order it is about, for per-order ordering and filtering; none for a test event.
    order_id = models.BigIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(default=clock.now)
    # The body sent, byte for byte on every attempt and replay: {"id", "type", "timestamp",
    # "version", "data"}. Text, not JSON: jsonb would reorder its keys.
    body = models.TextField()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["organization", "timestamp"], name="webhook_event_org_time")]

    def __str__(self):
        return f"{self.type} {self.event_id}"

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


class DeliveryStatus(models.TextChoices):
    # Waiting for its first attempt or for a retry.
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    # Every attempt failed (over more than 24 hours); a replay tries again.
    FAILED = "failed", "Failed"
    # Not sent because its endpoint was disabled or deleted first; a replay tries again.
    ABANDONED = "abandoned", "Abandoned"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # Attempts in the current round (a replay starts a new round); the back-off counts these.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    # The event's order, copied here so that "is an earlier event of this order still pending for
    # this endpoint?" (asked for every delivery a send claims) is one index look-up, no join.
    order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="uniq_webhook_delivery")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(
                fields=["endpoint", "order_id", "event"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_order_queue",
            ),
        ]

    def __str__(self):
        return f"{self.event} -> {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as sent and as answered (append-only)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The first KiB of the answer, for the log.
    response_body = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery}"


class WebhookEtaAnnouncement(models.Model):
    """The last ETA a stop's `order.eta_changed` announced: the debounce's reference.

    One row per stop (its primary key): two scans racing over the same stop cannot both announce,
    since the row is claimed in the transaction that writes the event and its deliveries.
    """

    stop = models.OneToOneField(
        "dispatch.Stop", on_delete=models.CASCADE, primary_key=True, related_name="webhook_eta_announcement"
    )
    eta = models.DateTimeField()
    announced_at = models.DateTimeField(default=clock.now)

    def __str__(self):
        return f"stop {self.stop_id} announced {self.eta:%H:%M}"
