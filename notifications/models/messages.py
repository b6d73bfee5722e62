"""Customer messages: the rules an organisation sets, the messages they produce, and opt-outs.

A Message row is the durable record of one email or SMS: written inside the transaction of the
event that caused it (the outbox delivery), rendered at creation, sent after commit by a task on
the `live` queue, retried with backoff, and swept again if its task is lost.
"""

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from common import clock
from common.languages import CUSTOMER_LANGUAGES


class MessageKind(models.TextChoices):
    ORDER_CONFIRMED = "order_confirmed", "Order confirmed"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    ARRIVING_SOON = "arriving_soon", "Arriving soon"
    DELAYED = "delayed", "Delayed"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Delivery failed"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class MessageStatus(models.TextChoices):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


# A queued message is sent, given up on, or suppressed (an opt-out recorded after it was queued);
# the other three are final. A failed attempt that will be retried stays queued.
MESSAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    MessageStatus.QUEUED: frozenset({MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SUPPRESSED}),
    MessageStatus.SENT: frozenset(),
    MessageStatus.FAILED: frozenset(),
    MessageStatus.SUPPRESSED: frozenset(),
}

# Rules an organisation has not set: every kind by email; by SMS only what the customer acts on
# within the hour (an SMS costs money and interrupts).
DEFAULT_RULES: dict[tuple[str, str], bool] = {
    **{(kind, Channel.EMAIL): True for kind in MessageKind.values},
    **{(kind, Channel.SMS): False for kind in MessageKind.values},
    (MessageKind.OUT_FOR_DELIVERY, Channel.SMS): True,
    (MessageKind.ARRIVING_SOON, Channel.SMS): True,
    (MessageKind.DELAYED, Channel.SMS): True,
    (MessageKind.FAILED, Channel.SMS): True,
}


class NotificationSettings(models.Model):
    """An organisation's message settings; an organisation without a row gets the field defaults."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    # The language of customers whose order names none (Order.language).
    language = models.CharField(max_length=8, default="en", choices=CUSTOMER_LANGUAGES)
    # Local wall-clock times in the organisation's timezone; start after end spans midnight.
    # Both empty: no quiet hours.
    quiet_hours_start = models.TimeField(null=True, blank=True, default=dt.time(21))
    quiet_hours_end = models.TimeField(null=True, blank=True, default=dt.time(8))
    arriving_soon_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    sender_name = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return f"notification settings of {self.organization_id}"


class NotificationRule(models.Model):
    """One kind on one channel switched on or off; absent rows fall back to DEFAULT_RULES."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=MessageKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "channel"], name="uniq_notification_rule")
        ]

    def __str__(self):
        return f"{self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"


class Message(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=MessageKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    # Why a message was suppressed (opt_out, ...), for the log.
    reason = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Not sent before this: quiet hours, or the backoff after a failed attempt.
    next_attempt_at = models.DateTimeField(default=clock.now)
    provider_id = models.CharField(max_length=120, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    error = models.TextField(blank=True)
    # One message per cause and channel, whatever redelivers the event that caused it.
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["order"]),
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="queued"), name="notification_message_due"
            ),
        ]

    def __str__(self):
        return f"{self.kind}/{self.channel} to {self.recipient} ({self.status})"

    def can_transition(self, target: str) -> bool:
        return target in MESSAGE_TRANSITIONS[self.status]


class OptOut(models.Model):
    """A customer contact (email address or phone number) that wants no more messages on a channel."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    contact = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "channel", "contact"], name="uniq_notification_opt_out")
        ]

    def __str__(self):
        return f"{self.contact} opted out of {self.channel}"


class MessageTemplate(models.Model):
    """An organisation's own wording for one kind in one language; a blank part keeps the default.

    Parts are Django template source with the variables of docs/notifications.md.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=MessageKind.choices)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    sms = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "language"], name="uniq_message_template")
        ]

    def __str__(self):
        return f"{self.kind}/{self.language} of {self.organization_id}"
