"""Webhooks and the durable paths: the outbox redelivering, the worker down, two workers at once."""

import datetime as dt

import pytest

from common.models import OutboxEvent
from common.tasks import events_deliver_task, events_sweep_task
from notifications.models import WebhookDelivery, WebhookEvent
from notifications.webhooks.delivery import webhook_deliver
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
def test_two_workers_sending_the_same_delivery_at_once_make_one_request(postgres, organization, receiver, monkeypatch):
    from notifications.webhooks import tasks
    from notifications.webhooks.services import webhook_test_send

    # No task is sent after the commit: the two workers below are the only senders.
    monkeypatch.setattr(tasks, "webhook_deliveries_enqueue", lambda ids: None)
    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=[])
    receiver.delay_s = 0.3  # both workers are inside the send at once
    delivery = webhook_test_send(endpoint=endpoint)

    outcomes = run_together([lambda: webhook_deliver(delivery_id=delivery.pk)] * 2)

    assert sorted(outcome.sent for outcome in outcomes) == [False, True]
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().attempt_log.count() == 1


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
