"""Webhooks and the durable paths: the outbox redelivering, the worker down, two workers at once."""

import datetime as dt
import time

import pytest

from common import clock
from common.models import OutboxEvent
from common.tasks import events_deliver_task, events_sweep_task
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from notifications.webhooks.delivery import webhook_endpoint_send
from notifications.webhooks.services import webhook_endpoint_create
from notifications.webhooks.tasks import webhook_deliveries_sweep_task
from tests.concurrency import run_together
from tests.factories.orders import order_payload


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.mark.django_db
def test_a_redelivered_outbox_event_is_not_sent_twice(
    organization, hub, merchant_client, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post("/api/orders", order_payload("SO-1"), format="json")
    outbox_event = OutboxEvent.objects.get(name="order_created")

    with django_capture_on_commit_callbacks(execute=True):
        events_deliver_task([outbox_event.pk])  # the broker hands the same message out again

    assert WebhookEvent.objects.count() == 1
    assert len(receiver.received) == 1


@pytest.mark.django_db
def test_events_committed_while_the_worker_is_down_are_sent_when_it_returns(
    organization, hub, merchant_client, receiver, django_capture_on_commit_callbacks
):
    # given: the change commits but no task runs (the worker is down, its messages lost)
    webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    with django_capture_on_commit_callbacks(execute=False):
        merchant_client.post("/api/orders", order_payload("SO-1"), format="json")
    assert receiver.received == []

    # when: the worker is back and beat's sweeps run
    with django_capture_on_commit_callbacks(execute=True):
        events_sweep_task(0)
        webhook_deliveries_sweep_task()

    # then
    assert [event["type"] for event in receiver.events()] == ["order.created"]
    assert WebhookDelivery.objects.get().status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_for_one_endpoint_at_once_make_one_request_per_delivery(
    postgres, organization, receiver, monkeypatch
):
    from notifications.webhooks import tasks
    from notifications.webhooks.services import webhook_test_send

    # No task is sent after the commit: the two workers below are the only senders.
    monkeypatch.setattr(tasks, "webhook_endpoints_enqueue", lambda ids, force=False: None)
    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    receiver.delay_s = 0.3  # both workers are inside their sends at once
    deliveries = [webhook_test_send(endpoint=endpoint) for _ in range(6)]

    outcomes = run_together([lambda: webhook_endpoint_send(endpoint_id=endpoint.pk, limit=4)] * 2)

    # Whichever claimed first took 4; the other took the 2 left, never one of the first 4.
    assert sorted(outcome.sent for outcome in outcomes) == [2, 4]
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(d.event.event_id for d in deliveries)
    assert WebhookAttempt.objects.count() == 6
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}


@pytest.mark.django_db(transaction=True)
def test_an_orders_later_event_waits_while_its_earlier_one_is_being_sent(
    postgres, organization, hub, merchant_client, receiver, monkeypatch
):
    from notifications.webhooks import tasks

    monkeypatch.setattr(tasks, "webhook_endpoints_enqueue", lambda ids, force=False: None)
    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    order_id = merchant_client.post("/api/orders", order_payload("SO-1"), format="json").json()["id"]
    assert merchant_client.post(f"/api/orders/{order_id}/cancel", {}, format="json").status_code == 200
    events_deliver_task(list(OutboxEvent.objects.order_by("pk").values_list("pk", flat=True)))
    assert WebhookDelivery.objects.count() == 2
    receiver.delay_s = 0.3

    # when: two workers at once: one sends the creation, the cancellation waits behind it
    run_together([lambda: webhook_endpoint_send(endpoint_id=endpoint.pk)] * 2)
    sent_meanwhile = [event["type"] for event in receiver.events()]
    webhook_endpoint_send(endpoint_id=endpoint.pk)

    # then
    assert sent_meanwhile == ["order.created"]
    assert [event["type"] for event in receiver.events()] == ["order.created", "order.cancelled"]


@pytest.mark.django_db
def test_events_past_their_retention_are_purged_unless_a_delivery_still_waits(
    organization, receiver, django_capture_on_commit_callbacks, time_machine
):
    from notifications.webhooks.retention import KEEP_EVENTS
    from notifications.webhooks.services import webhook_test_send
    from notifications.webhooks.tasks import webhook_events_purge_task

    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    with django_capture_on_commit_callbacks(execute=True):
        delivered = webhook_test_send(endpoint=endpoint)
    receiver.stop()
    with django_capture_on_commit_callbacks(execute=True):
        waiting = webhook_test_send(endpoint=endpoint)  # the receiver is gone: it stays pending
    time_machine.shift(KEEP_EVENTS + dt.timedelta(minutes=1))

    purged = webhook_events_purge_task()

    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [waiting.event_id]
    assert not WebhookDelivery.objects.filter(pk=delivered.pk).exists()
    assert purged == 1


@pytest.mark.django_db(transaction=True)
def test_a_slow_receivers_batch_starts_no_request_after_its_turn_and_gives_the_rest_back(
    postgres, organization, receiver, monkeypatch
):
    from notifications.webhooks import tasks
    from notifications.webhooks.delivery import CONCURRENCY
    from notifications.webhooks.services import webhook_test_send

    monkeypatch.setattr(tasks, "webhook_endpoints_enqueue", lambda ids, force=False: None)
    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    for _ in range(CONCURRENCY + 4):
        webhook_test_send(endpoint=endpoint)
    # Each answer takes longer than the turn: the first round starts, the next never does.
    receiver.delay_s = 2.0

    outcome = webhook_endpoint_send(endpoint_id=endpoint.pk, start_by=time.monotonic() + 1.0)

    assert (outcome.sent, outcome.delivered, outcome.left) == (CONCURRENCY, CONCURRENCY, 4)
    assert len(receiver.received) == CONCURRENCY
    waiting = WebhookDelivery.objects.filter(status="pending")
    # Given back without an attempt, due at once for the next turn.
    assert [(d.attempts, d.next_attempt_at <= clock.now()) for d in waiting] == [(0, True)] * 4


@pytest.mark.django_db
def test_a_failing_receiver_is_tried_one_round_of_requests_at_a_time(organization, receiver, monkeypatch):
    from notifications.webhooks import tasks
    from notifications.webhooks.delivery import CONCURRENCY
    from notifications.webhooks.services import webhook_test_send

    monkeypatch.setattr(tasks, "webhook_endpoints_enqueue", lambda ids, force=False: None)
    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    for _ in range(3 * CONCURRENCY):
        webhook_test_send(endpoint=endpoint)
    receiver.status = 503

    first = webhook_endpoint_send(endpoint_id=endpoint.pk)  # a healthy endpoint: a whole batch
    WebhookDelivery.objects.update(next_attempt_at=clock.now())  # their retries are due
    second = webhook_endpoint_send(endpoint_id=endpoint.pk)

    assert first.sent == 3 * CONCURRENCY
    assert second.sent == CONCURRENCY


def fan_out_queries(merchant_client, capture, count: int, prefix: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with capture(execute=False):
        rows = [order_payload(f"{prefix}-{n}") for n in range(count)]
        assert merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json").status_code == 201
    pending = list(OutboxEvent.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries, capture(execute=False):
        events_deliver_task(pending)
    return len(queries)


@pytest.mark.django_db
def test_fanning_an_imports_events_out_costs_the_same_statements_for_5_orders_as_for_40(
    organization, hub, merchant_client, receiver, django_capture_on_commit_callbacks
):
    for _ in range(3):
        webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])

    few = fan_out_queries(merchant_client, django_capture_on_commit_callbacks, 5, "A")
    many = fan_out_queries(merchant_client, django_capture_on_commit_callbacks, 40, "B")

    assert many == few
    assert WebhookEvent.objects.count() == 45
    assert WebhookDelivery.objects.filter(status="pending").count() == 45 * 3
