from django.db import models

from common import clock


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=clock.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """A POST remembered by its Idempotency-Key for 24 hours, scoped to one organization."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64)
    # Null while the first request is still being processed.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="uniq_idempotency_key")]

    def __str__(self):
        return f"{self.method} {self.path} [{self.key}]"


class OutboxEvent(models.Model):
    """A domain event written in its publisher's transaction and delivered to subscribers after commit.

    `delivered_at` is set once every subscriber has handled the event or been given up on;
    until then the sweep hands the event to a worker again whenever it is overdue.
    """

    name = models.CharField(max_length=64)
    # Plain JSON: publishing encodes the payload (dates, times and decimals become strings).
    payload = models.JSONField()
    created_at = models.DateTimeField(default=clock.now)
    # Delivery runs that had a failing subscriber; the backoff grows with it.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="outbox_undelivered",
            ),
        ]

    def __str__(self):
        return f"{self.name} #{self.pk}"


class ReceiptStatus(models.TextChoices):
    DONE = "done"
    RETRYING = "retrying"
    # Retries exhausted: the failure was handed to ops.
    GAVE_UP = "gave_up"


class EventReceipt(models.Model):
    """How one subscriber handled one event; written in the subscriber's own transaction on success."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="receipts")
    subscriber = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=ReceiptStatus.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="uniq_event_receipt")]

    def __str__(self):
        return f"{self.subscriber} {self.status} ({self.event_id})"
