"""The webhook event catalogue: which domain events merchants hear of, and what each body holds.

Every body is `{"id", "type", "timestamp", "version", "data"}`; `data.order` is the order exactly
as `GET /api/orders/{id}` shows it (orders.serializers.OrderOutputSerializer). docs/webhooks.md
lists the types with an example of each, checked against this module by the tests.
"""

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from common import events
from dispatch.models import DeliveryProof
from orders.models import Order
from orders.serializers import OrderOutputSerializer
from tracking.models import DeliveryException

# Bumped when a body changes incompatibly; receivers may branch on it.
PAYLOAD_VERSION = 1
TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class Source:
    """A domain event's view for merchants: its organization, order and `data` (None: not for merchants)."""

    organization_id: int
    order_id: int | None
    data: dict


def order_data(order: Order) -> dict:
    return OrderOutputSerializer(order).data


def _order_source(payload: dict) -> Source | None:
    return _order_sources([payload])[0]


def _order_sources(payloads: list[dict]) -> list[Source | None]:
    """The orders of many events with one query (a bulk import fans out hundreds at once)."""
    # The organization: the order as the API shows it lists the proofs its default requires.
    orders = Order.objects.select_related("hub", "organization").in_bulk([p["order_id"] for p in payloads])
    sources: list[Source | None] = []
    for payload in payloads:
        order = orders.get(payload["order_id"])
        if order is None:
            sources.append(None)
            continue
        data = {"order": order_data(order)}
        if "from" in payload:
            data["from_status"] = payload["from"]
            data["reason"] = payload.get("reason", "")
        sources.append(Source(order.organization_id, order.pk, data))
    return sources


def _exception_source(payload: dict) -> Source | None:
    exception = DeliveryException.objects.select_related("order__hub").filter(pk=payload["exception_id"]).first()
    # Exceptions about a driver or a route alone are ops' business, not the merchant's.
    if exception is None or exception.order is None:
        return None
    data = {
        "exception": {
            "id": exception.pk,
            "kind": exception.kind,
            "severity": exception.severity,
            "status": exception.status,
            "message": exception.message,
            "raised_at": exception.created_at,
            "resolved_at": exception.resolved_at,
        },
        "order": order_data(exception.order),
    }
    return Source(exception.organization_id, exception.order_id, data)


def _proof_source(payload: dict) -> Source | None:
    proof = DeliveryProof.objects.select_related("order__hub").filter(pk=payload["proof_id"]).first()
    if proof is None:
        return None
    data = {
        "proof": {
            "id": proof.pk,
            "kind": proof.kind,
            "content_type": proof.content_type,
            "size_bytes": proof.size_bytes,
            "captured_at": proof.captured_at,
            "uploaded_at": proof.uploaded_at,
        },
        "order": order_data(proof.order),
    }
    return Source(proof.organization_id, proof.order_id, data)


ETA_CHANGED = "order.eta_changed"


def _local(moment: dt.datetime | None, timezone: str) -> str | None:
    return None if moment is None else moment.astimezone(zoneinfo.ZoneInfo(timezone)).isoformat()


def eta_changed_data(order: Order, *, eta: dt.datetime | None, previous_eta: dt.datetime | None) -> dict:
    """`data` of order.eta_changed: the order and its live ETA, in the organisation's time zone."""
    timezone = order.organization.timezone
    return {"order": order_data(order), "eta": _local(eta, timezone), "previous_eta": _local(previous_eta, timezone)}


def _eta_source(payload: dict) -> Source | None:
    order = Order.objects.select_related("hub", "organization").filter(pk=payload["order_id"]).first()
    if order is None:
        return None
    data = eta_changed_data(order, eta=payload.get("eta"), previous_eta=payload.get("previous_eta"))
    return Source(order.organization_id, order.pk, data)


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    # None: not a domain event but a scan of Waypoint's own (order.eta_changed, debounced).
    domain_event: str | None
    source: Callable[[dict], Source | None]
    # The same for many events at once, where one query serves them all.
    many_sources: Callable[[list[dict]], list[Source | None]] | None = None

    def sources(self, payloads: list[dict]) -> list[Source | None]:
        if self.many_sources is not None:
            return self.many_sources(payloads)
        return [self.source(payload) for payload in payloads]


_STATUS_DESCRIPTIONS = {
    "validated": "The order's address was validated; it can be planned.",
    "planned": "The order is on a route plan.",
    "dispatched": "The order's route was dispatched to a driver.",
    "out_for_delivery": "The driver is on the way to the order's stop.",
    "arrived": "The driver arrived at the order's stop.",
    "delivered": "The order was delivered (its proofs follow as proof.added).",
    "failed": "A delivery attempt failed; `reason` says why, in the driver's words.",
    "rescheduled": "The order was rescheduled to a new date or slot.",
    "returned": "The order was returned to the hub.",
    "cancelled": "The order was cancelled; `reason` says why.",
}

EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "order.created",
        "An order was created (API, CSV import or app).",
        events.ORDER_CREATED,
        _order_source,
        _order_sources,
    ),
    *(
        EventType(f"order.{status}", _STATUS_DESCRIPTIONS[status], name, _order_source, _order_sources)
        for status, name in events.ORDER_STATUS_EVENTS.items()
    ),
    EventType(
        "exception.raised",
        "Ops were alerted to a problem with the order (late risk, failed attempt, address issue...).",
        events.EXCEPTION_RAISED,
        _exception_source,
    ),
    EventType(
        "exception.resolved", "Ops resolved the order's exception.", events.EXCEPTION_RESOLVED, _exception_source
    ),
    EventType(
        "proof.added",
        "The driver's proof of delivery (photo, signature) was stored.",
        events.PROOF_ADDED,
        _proof_source,
    ),
    EventType(
        ETA_CHANGED,
        "The order's live ETA was first estimated, or moved by at least the debounce (5 minutes by default).",
        None,
        _eta_source,
    ),
)
BY_NAME = {event_type.name: event_type for event_type in EVENT_TYPES}
TYPE_NAMES = [event_type.name for event_type in EVENT_TYPES]
