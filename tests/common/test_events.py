"""Domain events through the outbox: written in the publisher's transaction, delivered once after
commit, retried with backoff, and raised for ops when a reaction keeps failing."""

import datetime as dt
import logging
from functools import partial

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common import events
from common.events import ORDER_BATCH_CREATED, ORDER_CREATED, publish_on_commit, subscribe
from common.models import EventReceipt, OutboxEvent
from common.outbox import events_purge
from common.tasks import events_deliver_task, events_sweep_task
from tests.factories.orders import order_payload
from tracking.models import DeliveryException

pytestmark = pytest.mark.django_db
THING_HAPPENED = "thing_happened"


@pytest.fixture
def seen(monkeypatch):
    """A subscriber to THING_HAPPENED that records what it was handed."""
    monkeypatch.setitem(events._subscribers, THING_HAPPENED, [])
    received = []

    def record(payload):
        received.append(payload)

    subscribe(THING_HAPPENED, record)
    return received


def failing(payload):
    raise RuntimeError("the routing service is down")


def receipts(event):
    return {(r.subscriber.rsplit(".", 1)[-1], r.status, r.attempts) for r in event.receipts.all()}


def publish_then_fail():
    with transaction.atomic():
        publish_on_commit(THING_HAPPENED, {"n": 1})
        raise RuntimeError("the change failed")


def test_an_event_published_in_a_rolled_back_transaction_is_never_delivered(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        publish_then_fail()

    assert OutboxEvent.objects.count() == 0
    assert callbacks == []
    assert seen == []


def test_a_committed_event_is_delivered_after_commit_exactly_once(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish_on_commit(THING_HAPPENED, {"n": 1})
        assert seen == []  # nothing runs before the commit

    event = OutboxEvent.objects.get()
    assert seen == [{"n": 1}]
    assert event.delivered_at is not None
    assert receipts(event) == {("record", "done", 1)}


def test_a_redelivered_task_does_not_deliver_an_event_twice(seen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(THING_HAPPENED, {"n": 1})
    event = OutboxEvent.objects.get()

    events_deliver_task([event.pk])  # the broker hands the same message out again

    assert seen == [{"n": 1}]
    assert EventReceipt.objects.count() == 1


def test_a_failing_subscriber_is_retried_with_backoff_then_raised_for_ops(
    seen, organization, time_machine, caplog, django_capture_on_commit_callbacks
):
    """The other subscriber of the event runs once; the failing one 6 times, then ops see it."""
    subscribe(THING_HAPPENED, failing)
    caplog.set_level(logging.ERROR, logger="common.outbox")

    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(THING_HAPPENED, {"organization_id": organization.pk})
    event = OutboxEvent.objects.get()

    assert receipts(event) == {("record", "done", 1), ("failing", "retrying", 1)}
    failed = event.receipts.get(status="retrying")
    event.refresh_from_db()
    assert (event.attempts, event.next_attempt_at - failed.updated_at) == (1, dt.timedelta(seconds=10))
    assert f"Event thing_happened #{event.pk}: subscriber {failed.subscriber} failed (attempt 1 of 6)" in caplog.text

    events_deliver_task([event.pk])  # redelivered before the retry is due: waits
    assert event.receipts.get(pk=failed.pk).attempts == 1

    for wait_s in (10, 20, 40, 80, 160):
        time_machine.shift(dt.timedelta(seconds=wait_s))
        events_deliver_task([event.pk])

    event.refresh_from_db()
    assert receipts(event) == {("record", "done", 1), ("failing", "gave_up", 6)}
    assert event.receipts.get(pk=failed.pk).error == "RuntimeError: the routing service is down"
    assert event.delivered_at is not None
    assert seen == [{"organization_id": organization.pk}]
    raised = DeliveryException.objects.get()
    assert (raised.kind, raised.severity, raised.status, raised.cause) == (
        "reaction_failed",
        "critical",
        "open",
        f"reaction_failed:event:{event.pk}:{failed.subscriber}",
    )
    assert raised.message == (
        f"Event thing_happened #{event.pk}: {failed.subscriber} failed 6 times "
        "(RuntimeError: the routing service is down)"
    )
    assert f"subscriber {failed.subscriber} failed (attempt 6 of 6)" in caplog.text


def test_the_sweep_hands_an_event_whose_task_was_lost_to_a_worker(
    seen, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the commit happened, its task never ran
        publish_on_commit(THING_HAPPENED, {"n": 1})

    assert events_sweep_task() == 0  # its task may still be on its way
    time_machine.shift(dt.timedelta(minutes=5))
    assert events_sweep_task() == 1

    assert seen == [{"n": 1}]
    assert OutboxEvent.objects.get().delivered_at is not None
    assert events_sweep_task() == 0


def test_a_subscriber_filtered_out_by_its_payload_test_is_not_called(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setitem(events._subscribers, THING_HAPPENED, [])
    called = []
    subscribe(THING_HAPPENED, called.append, when=lambda payload: payload["urgent"])

    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(THING_HAPPENED, {"urgent": False})
        publish_on_commit(THING_HAPPENED, {"urgent": True})

    assert called == [{"urgent": True}]
    assert list(OutboxEvent.objects.values_list("payload", flat=True)) == [{"urgent": True}]
    assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 0
    assert EventReceipt.objects.count() == 1


def test_an_event_no_reaction_subscribes_to_is_not_stored(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setitem(events._subscribers, THING_HAPPENED, [])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish_on_commit(THING_HAPPENED, {"n": 1})

    assert OutboxEvent.objects.count() == 0
    assert callbacks == []


def test_a_bulk_import_writes_the_events_a_reaction_wants_in_one_insert(
    merchant_client, hub, django_capture_on_commit_callbacks
):
    """Ordinary orders with good addresses are nobody's business one by one: only the urgent ones'
    `order_created` are stored, in one insert; the batch is one `order_batch_created` beside them
    (the customers' confirmations)."""
    rows = [order_payload(f"BULK-{n}") for n in range(3)] + [
        order_payload(f"URGENT-{n}", priority=90) for n in range(2)
    ]

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json")

    assert response.status_code == 201, response.json()
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "common_outboxevent"')]
    assert len(inserts) == 2
    created = OutboxEvent.objects.filter(name=ORDER_CREATED)
    assert sorted(p["priority"] for p in created.values_list("payload", flat=True)) == [90, 90]
    assert created.filter(delivered_at__isnull=True).count() == 0
    [batch] = OutboxEvent.objects.filter(name=ORDER_BATCH_CREATED).values_list("payload", flat=True)
    assert sorted(batch["order_ids"]) == sorted(result["order"]["id"] for result in response.json()["results"])


def test_delivered_events_are_purged_after_a_week(seen, time_machine, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(THING_HAPPENED, {"n": 1})
    with django_capture_on_commit_callbacks(execute=False):
        publish_on_commit(THING_HAPPENED, {"n": 2})  # never delivered: kept

    time_machine.shift(dt.timedelta(days=7, seconds=1))

    assert events_purge() == 2  # the event and its receipt
    assert list(OutboxEvent.objects.values_list("payload", flat=True)) == [{"n": 2}]


def test_an_after_commit_subscriber_runs_in_the_publishing_process_and_a_failure_is_only_logged(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """Best effort (live pushes): the payload is the JSON the outbox keeps, and one failure stops nothing."""
    monkeypatch.setitem(events._after_commit, THING_HAPPENED, [])
    pushed = []
    events.subscribe_after_commit(THING_HAPPENED, failing)
    events.subscribe_after_commit(THING_HAPPENED, pushed.append)

    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(THING_HAPPENED, {"day": dt.date(2026, 12, 1)})

    assert pushed == [{"day": "2026-12-01"}]
    assert "After-commit handler tests.common.test_events.failing for event thing_happened failed" in caplog.text


def test_two_subscribers_of_one_event_may_not_share_a_name(monkeypatch):
    """Receipts are keyed by the subscriber's name; subscribing the same handler again is harmless."""
    monkeypatch.setitem(events._subscribers, THING_HAPPENED, [])
    subscribe(THING_HAPPENED, partial(failing_with, reason="a"))
    subscribe(THING_HAPPENED, partial(failing_with, reason="a"))

    with pytest.raises(ImproperlyConfigured) as refused:
        subscribe(THING_HAPPENED, partial(failing_with, reason="b"))

    assert str(refused.value) == (
        "Two subscribers of thing_happened are both named tests.common.test_events.failing_with"
    )
    assert len(events.subscribers_of(THING_HAPPENED)) == 1


def failing_with(payload, reason):
    raise RuntimeError(reason)


# --- Subscribers that handle many events at once ---------------------------------------------------


def one_at_a_time(calls, payload):
    if payload.get("bad"):
        raise RuntimeError("this one is broken")
    calls.append([payload["n"]])


def all_at_once(calls, payloads):
    if any(payload.get("bad") for payload in payloads):
        raise RuntimeError("one of them is broken")
    calls.append([payload["n"] for payload in payloads])


@pytest.fixture
def batched(monkeypatch):
    """A THING_HAPPENED subscriber with a `many` form; returns the calls, each the n's it was given."""
    monkeypatch.setitem(events._subscribers, THING_HAPPENED, [])
    calls: list[list[int]] = []
    subscribe(THING_HAPPENED, partial(one_at_a_time, calls), many=partial(all_at_once, calls))
    return calls


def test_a_subscriber_with_a_many_form_handles_a_groups_events_in_one_call(batched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish_many_on_commit(THING_HAPPENED, [{"n": n} for n in range(5)])

    assert batched == [[0, 1, 2, 3, 4]]
    assert {receipts(event).pop() for event in OutboxEvent.objects.all()} == {("one_at_a_time", "done", 1)}
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


def test_when_the_many_form_fails_each_event_runs_alone_and_only_the_bad_one_is_retried(
    batched, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.ERROR, logger="common.outbox")

    with django_capture_on_commit_callbacks(execute=True):
        events.publish_many_on_commit(THING_HAPPENED, [{"n": 0}, {"n": 1, "bad": True}, {"n": 2}])

    assert batched == [[0], [2]]
    by_n = {event.payload["n"]: event for event in OutboxEvent.objects.all()}
    assert receipts(by_n[1]) == {("one_at_a_time", "retrying", 1)}
    assert {receipts(by_n[n]).pop() for n in (0, 2)} == {("one_at_a_time", "done", 1)}
    assert list(OutboxEvent.objects.filter(delivered_at__isnull=True)) == [by_n[1]]
