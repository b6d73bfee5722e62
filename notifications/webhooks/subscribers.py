"""Domain events in, webhook events out: one outbox subscriber per catalogue type.

Each runs in the outbox's transaction with its receipt (common/outbox.py), so an outbox
redelivery never fans an event out twice; the deliveries it writes are sent after that commit.
"""

from functools import partial

from common.events import subscribe
from notifications.webhooks.catalogue import BY_NAME, EVENT_TYPES
from notifications.webhooks.selectors import organization_listens
from notifications.webhooks.services import webhook_event_record, webhook_events_record_many


def webhook_on_domain_event(event_type: str, payload: dict) -> None:
    source = BY_NAME[event_type].source(payload)
    if source is None:
        return
    webhook_event_record(
        organization_id=source.organization_id, event_type=event_type, data=source.data, order_id=source.order_id
    )


def webhook_on_domain_events(event_type: str, payloads: list[dict]) -> None:
    """The same for many events of one type (the outbox's groups): a few statements for them all."""
    sources = [source for source in BY_NAME[event_type].sources(payloads) if source is not None]
    webhook_events_record_many(event_type=event_type, sources=sources)


def _listened(payload: dict) -> bool:
    # Payloads without the organization (exceptions) are rare: the subscriber looks them up.
    organization_id = payload.get("organization_id")
    return organization_id is None or organization_listens(organization_id)


def webhooks_subscribe() -> None:
    for event_type in EVENT_TYPES:
        if event_type.domain_event is None:
            continue  # announced by its own scan (order.eta_changed: notifications/webhooks/eta.py)
        subscribe(
            event_type.domain_event,
            partial(webhook_on_domain_event, event_type.name),
            when=_listened,
            many=partial(webhook_on_domain_events, event_type.name),
        )
