"""How long the webhooks remember: events, with their deliveries and attempt logs, for 30 days."""

import datetime as dt

from common import clock
from notifications.models.webhooks import DeliveryStatus, WebhookEvent

# Long enough for the log and for a replay after a long outage; docs/webhooks.md says so.
KEEP_EVENTS = dt.timedelta(days=30)
PURGE_BATCH = 5000


def webhook_events_purge() -> int:
    """Delete events older than KEEP_EVENTS that no delivery still waits to send; returns how many."""
    old = WebhookEvent.objects.filter(timestamp__lt=clock.now() - KEEP_EVENTS).exclude(
        deliveries__status=DeliveryStatus.PENDING
    )
    batch = list(old.values_list("pk", flat=True)[:PURGE_BATCH])
    _, per_model = WebhookEvent.objects.filter(pk__in=batch).delete()
    return per_model.get(WebhookEvent._meta.label, 0)
