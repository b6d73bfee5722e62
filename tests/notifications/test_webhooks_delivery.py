"""Merchant webhooks end to end: the real order services publish, the outbox fans out, the send
reaches a real local receiver that verifies each request with the `standardwebhooks` library."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from accounts.tenancy import Actor
from common import clock
from notifications.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from notifications.webhooks import client
from notifications.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS
from notifications.webhooks.services import webhook_endpoint_create
from notifications.webhooks.tasks import webhook_deliveries_sweep_task
from orders.models import Order
from orders.services import order_cancel
from tests.factories.orders import order_payload
from tests.notifications.webhooks_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


def endpoint_for(organization, receiver, event_types=()):
    endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=list(event_types))
    receiver.secrets.append(endpoint.secret)
    return endpoint


def create_order(client_, reference, capture):
    with capture(execute=True):
        response = client_.post("/api/orders", order_payload(reference), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def sweep(capture):
    with capture(execute=True):
        webhook_deliveries_sweep_task()


def test_an_order_created_through_the_api_reaches_the_receiver_signed_with_the_order_as_the_api_shows_it(
    organization, hub, merchant_client, receiver, django_capture_on_commit_callbacks
):
    # given
    endpoint = endpoint_for(organization, receiver.start())

    # when
    created = create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)

    # then
    [request] = receiver.received
    assert request.verified_with == [endpoint.secret]
    event = WebhookEvent.objects.get()
    assert request.headers["webhook-id"] == event.event_id == request.event["id"]
    assert request.event["type"] == "order.created"
    assert request.event["version"] == 1
    shown = merchant_client.get(f"/api/orders/{created['id']}").json()
    sent = request.event["data"]["order"]
    # The API answers with an absolute tracking link; the webhook carries its path.
    assert shown.pop("tracking_url").endswith(sent.pop("tracking_url"))
    assert sent == shown
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == ("delivered", 1, 200)
    assert delivery.attempt_log.get().request_headers["webhook-id"] == event.event_id


def test_a_change_that_rolls_back_sends_nothing(
    organization, hub, merchant_client, admin_user, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(organization, receiver.start())
    created = create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=created["id"])

    def cancel_then_fail():
        with transaction.atomic():
            order_cancel(actor=Actor(organization=organization, user=admin_user), order=order, reason="changed mind")
            raise RuntimeError("the request failed after the cancel")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        cancel_then_fail()

    assert [event["type"] for event in receiver.events()] == ["order.created"]
    assert not WebhookEvent.objects.filter(type="order.cancelled").exists()


def test_only_subscribed_event_types_are_sent_to_an_endpoint(
    organization, hub, merchant_client, receiver, django_capture_on_commit_callbacks
):
    endpoint_for(organization, receiver.start(), event_types=["order.cancelled"])
    created = create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post(f"/api/orders/{created['id']}/cancel", {"reason": "out of stock"}, format="json")

    [request] = receiver.received
    assert request.event["type"] == "order.cancelled"
    assert request.event["data"]["reason"] == "out of stock"
    assert request.event["data"]["from_status"] == "validated"
    assert request.event["data"]["order"]["status"] == "cancelled"


def test_a_receiver_that_is_down_gets_every_event_after_it_returns_in_order_and_once_each(
    organization, hub, merchant_client, django_capture_on_commit_callbacks, time_machine
):
    # given: an endpoint whose receiver is not listening yet
    receiver = Receiver()
    endpoint_for(organization, receiver)
    created = create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post(f"/api/orders/{created['id']}/cancel", {"reason": "out of stock"}, format="json")
    first, second = WebhookDelivery.objects.order_by("event_id")

    # when: the first retries fail on the back-off's schedule
    for delay in RETRY_DELAYS[:2]:
        time_machine.shift(delay * 1.1 + dt.timedelta(seconds=1))
        sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)  # not due yet: no attempt

    # then
    first.refresh_from_db()
    attempts = list(first.attempt_log.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3]
    assert all(a.error.startswith("Connection failed") for a in attempts)
    gaps = [later.started_at - earlier.started_at for earlier, later in zip(attempts, attempts[1:], strict=False)]
    for gap, delay in zip(gaps, RETRY_DELAYS, strict=False):
        assert delay * 0.9 <= gap <= delay * 1.1 + dt.timedelta(seconds=2)
    assert RETRY_DELAYS[2] * 0.9 <= first.next_attempt_at - attempts[-1].started_at <= RETRY_DELAYS[2] * 1.1
    # the order's later event waits behind the earlier one: never attempted while it is pending
    assert second.attempt_log.count() == 0

    # when: the receiver comes back and the retry is due
    receiver.start()
    try:
        time_machine.shift(RETRY_DELAYS[2] * 1.1 + dt.timedelta(seconds=1))
        sweep(django_capture_on_commit_callbacks)
        sweep(django_capture_on_commit_callbacks)
    finally:
        receiver.stop()

    # then: both arrive, verified, in the order they happened, once each
    assert [event["type"] for event in receiver.events()] == ["order.created", "order.cancelled"]
    assert all(request.verified_with for request in receiver.received)
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 2
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_an_endpoint_failing_for_more_than_a_day_is_disabled_and_the_admins_are_told(
    organization, hub, merchant_client, admin_user, django_capture_on_commit_callbacks, time_machine
):
    # given
    admin_user.email = "admin@acme.example"
    admin_user.save()
    receiver = Receiver(status=500).start()
    endpoint = endpoint_for(organization, receiver)
    started = clock.now()
    create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)

    # when: every retry fails
    for delay in RETRY_DELAYS:
        time_machine.shift(delay * 1.1 + dt.timedelta(seconds=1))
        sweep(django_capture_on_commit_callbacks)
    receiver.stop()

    # then
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == ("failed", MAX_ATTEMPTS, 500)
    assert len(receiver.received) == MAX_ATTEMPTS
    last_attempt = delivery.attempt_log.order_by("number").last().started_at
    assert last_attempt - started > dt.timedelta(hours=24)
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.disabled_reason.startswith("Disabled automatically")
    # Besides the customer's confirmation of SO-1 (docs/notifications.md), one notice to the admins.
    [notice] = [email for email in mail.outbox if email.to != ["aino@example.fi"]]
    assert notice.to == ["admin@acme.example"]
    assert endpoint.url in notice.subject


def test_answers_that_are_slow_redirect_or_too_large_cannot_hold_the_worker(
    organization, hub, merchant_client, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 0.3)
    slow = Receiver(delay_s=1.5).start()
    redirecting = Receiver(status=302, extra_headers={"location": "http://169.254.169.254/"}).start()
    large = Receiver(answer_bytes=1024 * 1024).start()
    endpoints = [endpoint_for(organization, r) for r in (slow, redirecting, large)]

    create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)
    for r in (slow, redirecting, large):
        r.stop()

    slow_d, redirect_d, large_d = (WebhookDelivery.objects.get(endpoint=e) for e in endpoints)
    assert (slow_d.status, slow_d.last_error[:9]) == ("pending", "Timed out")
    assert (redirect_d.status, redirect_d.last_response_status) == ("pending", 302)
    assert redirect_d.last_error == "Redirect to http://169.254.169.254/ not followed"
    assert (large_d.status, large_d.last_response_status) == ("delivered", 200)
    assert len(large_d.attempt_log.get().response_body) == client.EXCERPT_BYTES


def test_an_endpoint_on_a_private_address_is_not_called_in_production_mode(
    organization, hub, merchant_client, receiver, django_capture_on_commit_callbacks, settings
):
    endpoint_for(organization, receiver.start())
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = False

    create_order(merchant_client, "SO-1", django_capture_on_commit_callbacks)

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == (
        "Webhooks cannot be sent to private networks: 127.0.0.1: 127.0.0.1 is a loopback address."
    )


def test_the_client_refuses_a_connection_that_lands_on_a_private_address_in_production_mode(receiver, settings):
    """The address connected to is checked too: DNS may answer differently than at the pre-send check."""
    receiver.start()
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = False

    answer = client.post(f"http://localhost:{receiver.port}/hooks", body=b"{}", headers={})

    assert answer.status is None
    assert "Webhooks cannot be sent to private networks: 127.0.0.1 is a loopback address" in answer.error
    assert receiver.received == []
