"""Every write of the webhooks: endpoints and their secrets, events fanned out, replays, tests.

Deliveries are sent after commit by `webhook_endpoint_send_task` (notifications/webhooks/delivery.py);
anything its task misses (a worker down, a broker restart) the periodic sweep sends.
"""

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from accounts.models import Organization
from common import clock
from common.after_commit import gathered_on_commit
from notifications.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.webhooks.addresses import receiver_validate
from notifications.webhooks.catalogue import PAYLOAD_VERSION, TEST_EVENT, Source
from notifications.webhooks.errors import EndpointDisabled, WebhookEventNotFound
from notifications.webhooks.selectors import organization_listens_forget
from notifications.webhooks.signing import secret_new

DEFAULT_OVERLAP = dt.timedelta(hours=24)
# A replay "since" resends at most this many events in one go; the answer says how many it took.
REPLAY_LIMIT = 10_000


# --- Endpoints -------------------------------------------------------------------------------------


def webhook_endpoint_create(
    *, organization: Organization, url: str, event_types: list[str], description: str = "", active: bool = True
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows `endpoint.secret` once)."""
    receiver_validate(url)
    now = clock.now()
    endpoint = WebhookEndpoint(
        organization=organization,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        active=active,
        secret=secret_new(),
        created_at=now,
        updated_at=now,
    )
    endpoint.full_clean()
    endpoint.save()
    transaction.on_commit(lambda: organization_listens_forget(organization.pk))
    organization_listens_forget(organization.pk)
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    """Change url, event types, description or active; switching it on again clears the disabling."""
    if "url" in changes:
        receiver_validate(changes["url"])
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        was_active = locked.active
        for name in ("url", "description", "active"):
            if name in changes:
                setattr(locked, name, changes[name])
        if "event_types" in changes:
            locked.event_types = sorted(set(changes["event_types"]))
        if changes.get("active") and not was_active:
            locked.disabled_reason, locked.disabled_at, locked.consecutive_failures = "", None, 0
        if changes.get("active") is False and was_active:
            locked.disabled_at = clock.now()
        locked.updated_at = clock.now()
        locked.full_clean()
        locked.save()
    return locked


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
    organization_listens_forget(endpoint.organization_id)


def webhook_secret_rotate(*, endpoint: WebhookEndpoint, overlap: dt.timedelta = DEFAULT_OVERLAP) -> WebhookEndpoint:
    """A new secret; the current one keeps signing beside it for `overlap` (0: retired at once)."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        now = clock.now()
        if overlap > dt.timedelta(0):
            locked.previous_secret, locked.previous_secret_expires_at = locked.secret, now + overlap
        else:
            locked.previous_secret, locked.previous_secret_expires_at = "", None
        locked.secret = secret_new()
        locked.updated_at = now
        locked.save()
    return locked


# --- Events and their deliveries -------------------------------------------------------------------


def event_id_new() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _event_new(*, organization_id: int, event_type: str, data: dict, order_id: int | None) -> WebhookEvent:
    event_id, now = event_id_new(), clock.now()
    body = {
        "id": event_id,
        "type": event_type,
        "timestamp": now,
        "version": PAYLOAD_VERSION,
        "data": data,
    }
    return WebhookEvent(
        organization_id=organization_id,
        event_id=event_id,
        type=event_type,
        order_id=order_id,
        timestamp=now,
        body=json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")),
    )


def _event(*, organization_id: int, event_type: str, data: dict, order_id: int | None) -> WebhookEvent:
    event = _event_new(organization_id=organization_id, event_type=event_type, data=data, order_id=order_id)
    event.save()
    return event


def webhook_event_record(
    *, organization_id: int, event_type: str, data: dict, order_id: int | None
) -> WebhookEvent | None:
    """Write the event and one delivery per active endpoint subscribed to it; nothing when no endpoint is.

    Runs inside the caller's transaction (the outbox's, for domain events): the deliveries are
    sent after it commits.
    """
    recorded = webhook_events_record_many(
        event_type=event_type, sources=[Source(organization_id=organization_id, order_id=order_id, data=data)]
    )
    return recorded[0] if recorded else None


def webhook_events_record_many(*, event_type: str, sources: list[Source]) -> list[WebhookEvent]:
    """Events of one type and their deliveries: one query for the endpoints of their
    organizations, one insert for the events, one for the deliveries. An event is kept while its
    organization has an endpoint for the type, even a disabled one: a replay since the disabling
    sends it what it missed once it is switched on again."""
    listening: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    organizations = {source.organization_id for source in sources}
    for endpoint in WebhookEndpoint.objects.filter(organization_id__in=organizations):
        if endpoint.wants(event_type):
            listening[endpoint.organization_id].append(endpoint)
    events = [
        _event_new(
            organization_id=source.organization_id, event_type=event_type, data=source.data, order_id=source.order_id
        )
        for source in sources
        if listening[source.organization_id]
    ]
    if not events:
        return []
    now = clock.now()
    with transaction.atomic(savepoint=False):
        WebhookEvent.objects.bulk_create(events)
        deliveries = [
            WebhookDelivery(
                endpoint=endpoint, event=event, order_id=event.order_id, next_attempt_at=now, created_at=now
            )
            for event in events
            for endpoint in listening[event.organization_id]
            if endpoint.active
        ]
        WebhookDelivery.objects.bulk_create(deliveries)
        _send_after_commit({delivery.endpoint_id for delivery in deliveries})
    return events


def _deliveries_pending(*, event: WebhookEvent, endpoints: Iterable[WebhookEndpoint]) -> list[WebhookDelivery]:
    now = clock.now()
    deliveries = [
        WebhookDelivery(endpoint=e, event=event, order_id=event.order_id, next_attempt_at=now, created_at=now)
        for e in endpoints
    ]
    # (endpoint, event) is unique: a second fan-out of the same event adds nothing.
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    _send_after_commit({e.pk for e in endpoints})
    return deliveries


def _send_after_commit(endpoint_ids: set[int]) -> None:
    if not endpoint_ids:
        return
    if not transaction.get_connection().in_atomic_block:
        _enqueue_gathered([endpoint_ids])
        return
    # A transaction's writes (a replay, a group of fanned-out events) queue their endpoints once.
    gathered_on_commit(_enqueue_gathered).append(endpoint_ids)


def _enqueue_gathered(endpoint_id_sets: list[set[int]]) -> None:
    from notifications.webhooks.tasks import webhook_endpoints_enqueue

    webhook_endpoints_enqueue(sorted(set().union(*endpoint_id_sets)))


def webhook_test_send(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event for this endpoint only (sent even when it is disabled)."""
    data = {"message": "A test event from Waypoint.", "endpoint_id": endpoint.pk}
    with transaction.atomic():
        event = _event(organization_id=endpoint.organization_id, event_type=TEST_EVENT, data=data, order_id=None)
        _deliveries_pending(event=event, endpoints=[endpoint])
    return WebhookDelivery.objects.select_related("event").get(endpoint=endpoint, event=event)


# --- Replays ---------------------------------------------------------------------------------------


def _replay(*, endpoint: WebhookEndpoint, events: list[WebhookEvent]) -> list[WebhookDelivery]:
    if not endpoint.active:
        raise EndpointDisabled()
    now = clock.now()
    with transaction.atomic():
        existing = {
            d.event_id: d
            for d in WebhookDelivery.objects.select_for_update().filter(endpoint=endpoint, event__in=events)
        }
        replayed = []
        for event in events:
            delivery = existing.get(event.pk) or WebhookDelivery(
                endpoint=endpoint, event=event, order_id=event.order_id, created_at=now
            )
            # A new round: the back-off starts again; the attempt log keeps the earlier rounds.
            delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
            delivery.delivered_at = None
            replayed.append(delivery)
        WebhookDelivery.objects.bulk_update(
            [d for d in replayed if d.pk], ["status", "attempts", "next_attempt_at", "delivered_at"]
        )
        WebhookDelivery.objects.bulk_create([d for d in replayed if not d.pk])
        _send_after_commit({endpoint.pk} if replayed else set())
    return replayed


def webhook_replay_event(*, endpoint: WebhookEndpoint, event_id: str) -> WebhookDelivery:
    """Send one event to the endpoint again (or for the first time), whatever its earlier outcome."""
    event = WebhookEvent.objects.filter(organization_id=endpoint.organization_id, event_id=event_id).first()
    if event is None or event.type == TEST_EVENT and event.deliveries.exclude(endpoint=endpoint).exists():
        raise WebhookEventNotFound(event_id)
    return _replay(endpoint=endpoint, events=[event])[0]


def webhook_replay_since(*, endpoint: WebhookEndpoint, since: dt.datetime) -> list[WebhookDelivery]:
    """Send again every event of the endpoint's types from `since` on, oldest first (test events aside)."""
    candidates = (
        WebhookEvent.objects.filter(organization_id=endpoint.organization_id, timestamp__gte=since)
        .exclude(type=TEST_EVENT)
        .order_by("pk")
    )
    events = [event for event in candidates[:REPLAY_LIMIT] if endpoint.wants(event.type)]
    return _replay(endpoint=endpoint, events=events)
