"""Reads of the webhooks, each given the organization."""

import threading
import time

from django.db.models import QuerySet

from accounts.models import Organization
from notifications.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Whether an organization has endpoints, remembered briefly: a 1,000-order import asks once per
# order whether anyone listens (common/events.py, `when`). Endpoint changes in this process
# forget it at once; another process's change is seen within this long.
LISTENING_TTL_S = 2.0
_listening: dict[int, tuple[float, bool]] = {}
_listening_lock = threading.Lock()


def organization_listens(organization_id: int) -> bool:
    now = time.monotonic()
    with _listening_lock:
        known = _listening.get(organization_id)
    if known is not None and known[0] > now:
        return known[1]
    listens = WebhookEndpoint.objects.filter(organization_id=organization_id).exists()
    with _listening_lock:
        _listening[organization_id] = (now + LISTENING_TTL_S, listens)
    return listens


def organization_listens_forget(organization_id: int) -> None:
    with _listening_lock:
        _listening.pop(organization_id, None)


def organization_listens_forget_all() -> None:
    """Forget every organization's answer (the tests: each starts with an empty database)."""
    with _listening_lock:
        _listening.clear()


def webhook_endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization).order_by("pk")


def webhook_delivery_list(
    *, organization: Organization, endpoint: WebhookEndpoint, status: str = "", event_type: str = ""
) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint, endpoint__organization=organization)
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    return deliveries.select_related("event").order_by("-pk")


def webhook_attempt_list(*, organization: Organization, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery, delivery__endpoint__organization=organization)
