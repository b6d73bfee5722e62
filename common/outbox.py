"""Delivering outbox events to their subscribers: once each, retried with backoff, failures to ops.

A delivery locks the event rows (up to GROUP in one transaction), runs each subscriber that has
not handled an event yet in its own savepoint, and writes the subscriber's receipt in that same
savepoint: a reaction and its receipt commit together, so a redelivered task or a worker killed
mid-way never runs a reaction twice.
Failures are logged with the event id and retried after 10 s, 20 s, 40 s... (capped); after the
last attempt the failure hooks raise it for ops. The sweep hands overdue events to a worker again.
"""

import datetime as dt
import logging
import traceback

from django.db import transaction
from django.db.models import Q

from common import clock
from common.events import FailedDelivery, Subscriber, failure_hooks, subscribers_of
from common.models import EventReceipt, OutboxEvent, ReceiptStatus

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
RETRY_BASE = dt.timedelta(seconds=10)
RETRY_CAP = dt.timedelta(minutes=5)
# An event still undelivered this long after it was due has lost its task (a worker killed
# mid-delivery, a broker restart): the sweep enqueues it again.
OVERDUE_AFTER = dt.timedelta(minutes=5)
KEEP_DELIVERED = dt.timedelta(days=7)
# Events delivered in one transaction: a bulk import's hundreds of events commit in a few groups.
GROUP = 50


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed run: doubling from RETRY_BASE, capped at RETRY_CAP."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1))


def events_deliver(*, event_ids: list[int]) -> dict[int, float]:
    """Deliver the due, undelivered events among `event_ids`; returns {event id: seconds to its retry}."""
    now = clock.now()
    # A retry waits for its time; a first delivery never does (the worker's clock may run behind).
    due = Q(attempts=0) | Q(next_attempt_at__lte=now)
    events = list(OutboxEvent.objects.filter(due, pk__in=event_ids, delivered_at__isnull=True).order_by("pk"))
    handled = _handled(events)
    quiet, busy = [], []
    for event in events:
        done = handled.get(event.pk, set())
        todo = [s for s in subscribers_of(event.name) if s.name not in done and s.wants(event.payload)]
        (busy if todo else quiet).append(event)
    if quiet:
        # Nobody has anything to do with these: one statement closes them all.
        OutboxEvent.objects.filter(pk__in=[e.pk for e in quiet], delivered_at__isnull=True).update(delivered_at=now)
    retries = {}
    for start in range(0, len(busy), GROUP):
        retries.update(_deliver_group([event.pk for event in busy[start : start + GROUP]]))
    return retries


def _handled(events: list[OutboxEvent]) -> dict[int, set[str]]:
    """Subscribers done with (or given up on) each event that has failed before."""
    retried = [e.pk for e in events if e.attempts]
    handled: dict[int, set[str]] = {}
    receipts = EventReceipt.objects.filter(event_id__in=retried).exclude(status=ReceiptStatus.RETRYING)
    for event_id, subscriber in receipts.values_list("event_id", "subscriber"):
        handled.setdefault(event_id, set()).add(subscriber)
    return handled


def _deliver_group(event_ids: list[int]) -> dict[int, float]:
    """Deliver events in one transaction (one commit for the group, not one per event); each
    subscriber's reaction still runs in a savepoint of its own, so one failing rolls back only itself."""
    retries, delivered = {}, []
    with transaction.atomic():
        # Another worker delivering some of these holds their rows: they are left to it.
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=event_ids, delivered_at__isnull=True)
            .order_by("pk")
        )
        receipts: dict[int, dict[str, EventReceipt]] = {}
        for receipt in EventReceipt.objects.filter(event__in=events):
            receipts.setdefault(receipt.event_id, {})[receipt.subscriber] = receipt
        todo = {event.pk: _pending_subscribers(event, receipts.get(event.pk, {})) for event in events}
        _run_many_at_once(events, todo, receipts)
        for event in events:
            done = receipts.get(event.pk, {})
            failed = []
            for subscriber in todo[event.pk]:
                receipt = done.get(subscriber.name)
                error = _run(event, subscriber, receipt)
                if error is not None:
                    failed.append((subscriber, receipt, error))
            delay = _settle(event, failed)
            if delay is None:
                delivered.append(event.pk)
            else:
                retries[event.pk] = delay
        OutboxEvent.objects.filter(pk__in=delivered).update(delivered_at=clock.now())
    return retries


def _pending_subscribers(event: OutboxEvent, done: dict[str, EventReceipt]) -> list[Subscriber]:
    pending = []
    for subscriber in subscribers_of(event.name):
        receipt = done.get(subscriber.name)
        if receipt is not None and receipt.status != ReceiptStatus.RETRYING:
            continue
        if subscriber.wants(event.payload):
            pending.append(subscriber)
    return pending


def _run_many_at_once(events: list[OutboxEvent], todo: dict[int, list[Subscriber]], receipts: dict) -> None:
    """Subscribers with a `many` form run once for all the group's events that are new to them.

    Done, they are struck off those events' lists; failed, the lists stay as they were and each
    event runs them on its own, so one bad event is retried alone and the others go through.
    """
    groups: dict[tuple[str, str], tuple[Subscriber, list[OutboxEvent]]] = {}
    for event in events:
        for subscriber in todo[event.pk]:
            if subscriber.many is not None and subscriber.name not in receipts.get(event.pk, {}):
                groups.setdefault((event.name, subscriber.name), (subscriber, []))[1].append(event)
    for subscriber, group in groups.values():
        if len(group) < 2:
            continue
        now = clock.now()
        try:
            with transaction.atomic():
                subscriber.many([event.payload for event in group])
                EventReceipt.objects.bulk_create(
                    EventReceipt(
                        event=event,
                        subscriber=subscriber.name,
                        status=ReceiptStatus.DONE,
                        attempts=1,
                        error="",
                        updated_at=now,
                    )
                    for event in group
                )
        except Exception:
            logger.warning(
                "Subscriber %s failed on %d events at once; each runs alone", subscriber.name, len(group), exc_info=True
            )
            continue
        for event in group:
            todo[event.pk].remove(subscriber)


def _run(event: OutboxEvent, subscriber: Subscriber, receipt: EventReceipt | None) -> str | None:
    """Run one subscriber with its receipt in one savepoint; returns the error, if it failed."""
    try:
        with transaction.atomic():
            subscriber.handler(event.payload)
            attempts = (receipt.attempts if receipt else 0) + 1
            _receipt_write(event, subscriber, receipt, status=ReceiptStatus.DONE, attempts=attempts, error="")
    except Exception as error:
        return _failure(event, subscriber, receipt, error)
    return None


def _receipt_write(event: OutboxEvent, subscriber: Subscriber, receipt: EventReceipt | None, **fields) -> None:
    """One statement: the event row is locked, so the receipt read with it is still the latest."""
    fields.setdefault("updated_at", clock.now())
    if receipt is None:
        EventReceipt.objects.create(event=event, subscriber=subscriber.name, **fields)
    else:
        EventReceipt.objects.filter(pk=receipt.pk).update(**fields)


def _failure(event: OutboxEvent, subscriber: Subscriber, receipt: EventReceipt | None, error: Exception) -> str:
    attempt = (receipt.attempts if receipt else 0) + 1
    logger.error(
        "Event %s #%d: subscriber %s failed (attempt %d of %d)",
        event.name,
        event.pk,
        subscriber.name,
        attempt,
        MAX_ATTEMPTS,
        exc_info=error,
    )
    return "".join(traceback.format_exception_only(error)).strip()[:2000]


def _settle(event: OutboxEvent, failed: list) -> float | None:
    now = clock.now()
    retrying = False
    for subscriber, receipt, error in failed:
        attempts = (receipt.attempts if receipt else 0) + 1
        gave_up = attempts >= MAX_ATTEMPTS
        status = ReceiptStatus.GAVE_UP if gave_up else ReceiptStatus.RETRYING
        _receipt_write(event, subscriber, receipt, status=status, attempts=attempts, error=error, updated_at=now)
        if gave_up:
            _give_up(FailedDelivery(event.pk, event.name, event.payload, subscriber.name, attempts, error))
        retrying = retrying or not gave_up
    if not retrying:
        return None  # delivered: the group marks its delivered events in one statement
    event.attempts += 1
    delay = retry_delay(event.attempts)
    event.next_attempt_at = now + delay
    event.save(update_fields=["attempts", "next_attempt_at"])
    return delay.total_seconds()


def _give_up(failure: FailedDelivery) -> None:
    logger.error(
        "Event %s #%d: subscriber %s gave up after %d attempts; raised for ops",
        failure.name,
        failure.event_id,
        failure.subscriber,
        failure.attempts,
    )
    for hook in failure_hooks():
        try:
            with transaction.atomic():
                hook(failure)
        except Exception:
            logger.exception("Failure hook %r for event #%d failed", hook, failure.event_id)


def events_sweep(
    *, now: dt.datetime | None = None, grace: dt.timedelta = OVERDUE_AFTER, limit: int = 5000
) -> list[int]:
    """Claim undelivered events overdue by `grace`, due again now; returns their ids to enqueue."""
    now = now or clock.now()
    with transaction.atomic():
        overdue = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True, next_attempt_at__lte=now - grace)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        # Due now, so the next sweep leaves them to their task for another `grace`.
        OutboxEvent.objects.filter(pk__in=overdue).update(next_attempt_at=now)
    return overdue


def events_purge(*, now: dt.datetime | None = None) -> int:
    """Delete delivered events (and their receipts) older than KEEP_DELIVERED."""
    cutoff = (now or clock.now()) - KEEP_DELIVERED
    deleted, _ = OutboxEvent.objects.filter(delivered_at__isnull=False, created_at__lt=cutoff).delete()
    return deleted
