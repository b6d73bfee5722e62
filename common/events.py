"""Named domain events: publishers record facts in an outbox; other apps subscribe by name.

Publishing writes an `OutboxEvent` row inside the publisher's transaction, so a rolled-back
change announces nothing and a committed one cannot be lost. After the commit a worker task
delivers the event (common/outbox.py): each subscriber runs in its own transaction, is retried
with capped exponential backoff, and after the last attempt the failure goes to the hooks
registered with `on_delivery_failed` (tracking raises it for ops).

Subscribers register in their AppConfig.ready(). Event names are the constants below: grepping
one finds its publishers and every subscriber.
"""

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from common.bulk import insert_new
from common.errors import is_redis_outage
from common.models import OutboxEvent
from common.realtime import publishes_collected

logger = logging.getLogger(__name__)

# --- The vocabulary ---------------------------------------------------------------------------
# Orders (orders.services). order_transition publishes ORDER_STATUS_EVENTS[target status].
ORDER_CREATED = "order_created"
# One per create call (an order, a bulk request, a CSV batch), naming every order it created:
# for reactions that read a batch at once (customer confirmations) rather than one delivery per
# order. ORDER_CREATED still announces each order.
ORDER_BATCH_CREATED = "order_batch_created"
ORDER_UPDATED = "order_updated"
ORDER_VALIDATED = "order_validated"
ORDER_PLANNED = "order_planned"
ORDER_DISPATCHED = "order_dispatched"
ORDER_OUT_FOR_DELIVERY = "order_out_for_delivery"
ORDER_ARRIVED = "order_arrived"
ORDER_DELIVERED = "order_delivered"
ORDER_FAILED = "order_failed"
ORDER_RESCHEDULED = "order_rescheduled"
ORDER_RETURNED = "order_returned"
ORDER_CANCELLED = "order_cancelled"
ORDER_STATUS_EVENTS = {
    "validated": ORDER_VALIDATED,
    "planned": ORDER_PLANNED,
    "dispatched": ORDER_DISPATCHED,
    "out_for_delivery": ORDER_OUT_FOR_DELIVERY,
    "arrived": ORDER_ARRIVED,
    "delivered": ORDER_DELIVERED,
    "failed": ORDER_FAILED,
    "rescheduled": ORDER_RESCHEDULED,
    "returned": ORDER_RETURNED,
    "cancelled": ORDER_CANCELLED,
}
# What the customer did on the tracking page (orders.services).
INSTRUCTIONS_UPDATED = "instructions_updated"
ACCESS_CODE_UPDATED = "access_code_updated"
ALTERNATIVE_CHOSEN = "alternative_chosen"
DELIVERY_RATED = "delivery_rated"
# Plans and their stops (dispatch.planning: plan_transition, stop_transition).
PLAN_OPTIMIZING = "plan_optimizing"
PLAN_OPTIMIZED = "plan_optimized"
PLAN_FAILED = "plan_failed"
PLAN_DISPATCHED = "plan_dispatched"
STOP_PLANNED = "stop_planned"
STOP_EN_ROUTE = "stop_en_route"
STOP_ARRIVED = "stop_arrived"
STOP_DONE = "stop_done"
STOP_FAILED = "stop_failed"
STOP_SKIPPED = "stop_skipped"
STOP_DROPPED = "stop_dropped"
# The failed-delivery policy's decision after a failed or skipped stop (dispatch.execution.policy).
FAILURE_POLICY_DECIDED = "failure_policy_decided"
# A driver's proof of delivery was stored (dispatch.execution.proofs: proof_upload).
PROOF_ADDED = "proof_added"
# An order was given a slot: a checkout's hold confirmed onto it, a reschedule through the API or
# the tracking page, the failed-delivery policy's next slot (dispatch.slots: _move_order).
ORDER_SLOT_BOOKED = "order_slot_booked"
# Checkout slot holds (dispatch.slots: slot_hold_transition).
SLOT_HOLD_CONFIRMED = "slot_hold_confirmed"
SLOT_HOLD_RELEASED = "slot_hold_released"
SLOT_HOLD_EXPIRED = "slot_hold_expired"
# /api/optimize jobs (dispatch.optimize: optimization_job_transition).
OPTIMIZATION_JOB_QUEUED = "optimization_job_queued"
OPTIMIZATION_JOB_RUNNING = "optimization_job_running"
OPTIMIZATION_JOB_SUCCEEDED = "optimization_job_succeeded"
OPTIMIZATION_JOB_FAILED = "optimization_job_failed"
OPTIMIZATION_JOB_CANCELLED = "optimization_job_cancelled"
# Operational exceptions (tracking: exception_raise, exception_transition).
EXCEPTION_RAISED = "exception_raised"
EXCEPTION_ACKNOWLEDGED = "exception_acknowledged"
EXCEPTION_RESOLVED = "exception_resolved"

Handler = Callable[[dict], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Handler
    # A cheap test on the payload alone: when it says no, the event is none of this subscriber's
    # business and it is not called (a bulk import's events mostly end here).
    when: Callable[[dict], bool] | None = None
    # Optionally the same reaction for many events at once (a bulk import's hundreds): the outbox
    # calls it with the payloads of a group of events and falls back to `handler`, one event at a
    # time, for a retry or when the group fails.
    many: Callable[[list[dict]], None] | None = None

    def wants(self, payload: dict) -> bool:
        return self.when is None or self.when(payload)


@dataclass(frozen=True)
class FailedDelivery:
    event_id: int
    name: str
    payload: dict
    subscriber: str
    attempts: int
    error: str


_subscribers: dict[str, list[Subscriber]] = defaultdict(list)
_after_commit: dict[str, list[Handler]] = defaultdict(list)
_failure_hooks: list[Callable[[FailedDelivery], None]] = []
_deliver_later: Callable[[list[int]], None] | None = None


def subscriber_name(handler: Callable) -> str:
    target = handler.func if isinstance(handler, partial) else handler
    module = getattr(target, "__module__", None) or type(target).__module__
    return f"{module}.{getattr(target, '__qualname__', type(target).__qualname__)}"


def subscribe(
    name: str,
    handler: Handler,
    *,
    when: Callable[[dict], bool] | None = None,
    many: Callable[[list[dict]], None] | None = None,
) -> None:
    """A reaction that must happen: delivered from the outbox by a worker, retried, raised for ops at last."""
    subscriber = Subscriber(name=subscriber_name(handler), handler=handler, when=when, many=many)
    existing = {s.name: s for s in _subscribers[name]}
    if subscriber.name in existing:
        if not _same(existing[subscriber.name].handler, handler):
            # Receipts are keyed by this name: two handlers sharing it would share one receipt.
            raise ImproperlyConfigured(f"Two subscribers of {name} are both named {subscriber.name}")
        return
    _subscribers[name].append(subscriber)


def _same(one: Callable, other: Callable) -> bool:
    if isinstance(one, partial) and isinstance(other, partial):
        return (one.func, one.args, one.keywords) == (other.func, other.args, other.keywords)
    return one == other


def subscribe_after_commit(name: str, handler: Handler) -> None:
    """A best-effort reaction (a live-page push): runs in the publishing process right after the
    commit; a failure is logged and not retried."""
    if handler not in _after_commit[name]:
        _after_commit[name].append(handler)


def subscribers_of(name: str) -> list[Subscriber]:
    return list(_subscribers.get(name, ()))


def on_delivery_failed(hook: Callable[[FailedDelivery], None]) -> None:
    """Register `hook`, called when a subscriber has failed its last attempt on an event."""
    if hook not in _failure_hooks:
        _failure_hooks.append(hook)


def failure_hooks() -> list[Callable[[FailedDelivery], None]]:
    return list(_failure_hooks)


def deliver_with(enqueue: Callable[[list[int]], None]) -> None:
    """Set how committed events reach a worker (common/apps.py: the delivery task)."""
    global _deliver_later
    _deliver_later = enqueue


def publish_on_commit(name: str, payload: dict) -> None:
    """Record the event in the caller's transaction (or its own); it is delivered after commit."""
    publish_many_on_commit(name, [payload])


def publish_many_on_commit(name: str, payloads: Iterable[dict]) -> None:
    """Record one event per payload with a single insert; one task delivers them all.

    Only events some reaction wants are stored: an event that no subscriber of its name accepts
    (no subscriber at all, or every `when` test says no, as for a bulk import's ordinary orders)
    has nothing to deliver, so it costs neither a row nor a task.
    """
    # The JSON the outbox keeps, so every subscriber (and every `when` test) sees the same types;
    # a payload that is not JSON fails here, in the publisher, whoever subscribes.
    stored = json.loads(json.dumps(list(payloads), cls=DjangoJSONEncoder))
    if not stored:
        return
    subscribers = _subscribers.get(name, ())
    wanted = [payload for payload in stored if any(s.wants(payload) for s in subscribers)]
    # Joins the caller's transaction; a publisher outside one gets its own.
    with transaction.atomic(savepoint=False):
        if wanted:
            transaction.on_commit(partial(_enqueue, _insert(name, wanted)))
        handlers = _after_commit.get(name, ())
        if handlers:
            transaction.on_commit(partial(_run_all_after_commit, name, tuple(handlers), stored))


def _insert(name: str, payloads: list[dict]) -> list[int]:
    # One INSERT ... SELECT for the batch (common/bulk.py): 1.4 ms of CPU for a 1,000-order
    # import's events where bulk_create took 23 ms.
    events = [OutboxEvent(name=name, payload=payload) for payload in payloads]
    insert_new(events)
    return [event.pk for event in events]


def _enqueue(event_ids: list[int]) -> None:
    if _deliver_later is None:
        raise ImproperlyConfigured("common.events has no delivery task: is `common` in INSTALLED_APPS?")
    try:
        _deliver_later(event_ids)
    except Exception as error:
        if not is_redis_outage(error):
            raise
        # The events are committed in the outbox and beat's sweep sends them once the broker is
        # back; raising here would answer 503 for a change that was made (issue 12, item 8).
        logger.warning("Broker unavailable, outbox events %s left to the sweep: %r", event_ids, error)


def _run_all_after_commit(name: str, handlers: tuple[Handler, ...], payloads: list[dict]) -> None:
    # Their pushes to live screens leave together, once all have run.
    with publishes_collected():
        for handler in handlers:
            for payload in payloads:
                _run_after_commit(name, handler, payload)


def _run_after_commit(name: str, handler: Handler, payload: dict) -> None:
    try:
        handler(payload)
    except Exception:
        # Best effort by design: the page catches up on its next snapshot.
        logger.exception("After-commit handler %s for event %s failed", subscriber_name(handler), name)
