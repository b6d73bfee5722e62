"""Ops unlock a one-time code guessed wrong too often: a new code, a fresh count, one history event."""

import logging

import pytest
from django.test import Client

from accounts.tenancy import Actor
from orders.errors import DeliveryCodeLocked, DeliveryCodeNotResettable
from orders.models import Order, OrderEvent
from orders.services import order_delivery_code_check, order_delivery_code_reset
from tests.factories.fleet import OrderFactory

pytestmark = pytest.mark.django_db
OLD_CODE = "482913"


@pytest.fixture
def order(hub):
    """Out for delivery, its code locked after five wrong tries at the door."""
    return OrderFactory(
        hub=hub,
        status="out_for_delivery",
        proof_of_delivery=["signature", "one_time_code"],
        delivery_code=OLD_CODE,
        delivery_code_attempts=5,
    )


@pytest.fixture
def dispatcher(organization, dispatcher_user):
    return Actor(organization=organization, user=dispatcher_user)


def url(order) -> str:
    return f"/api/orders/{order.pk}/delivery-code/reset"


def snapshot(order) -> tuple:
    order = Order.objects.get(pk=order.pk)
    return (order.delivery_code, order.delivery_code_attempts, order.updated_at, order.status)


# --- The service ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["out_for_delivery", "arrived"])
def test_a_reset_gives_a_new_six_digit_code_with_five_tries(order, dispatcher, status):
    Order.objects.filter(pk=order.pk).update(status=status)

    reset = order_delivery_code_reset(actor=dispatcher, order=order)

    stored = Order.objects.get(pk=order.pk)
    assert stored.delivery_code == reset.delivery_code
    assert len(stored.delivery_code) == 6
    assert stored.delivery_code.isdigit()
    assert stored.delivery_code_attempts == 0
    assert stored.status == status


def test_the_new_code_unlocks_the_door(order, dispatcher):
    with pytest.raises(DeliveryCodeLocked):
        order_delivery_code_check(order=order, code=OLD_CODE)

    reset = order_delivery_code_reset(actor=dispatcher, order=order)

    checked = order_delivery_code_check(order=order, code=reset.delivery_code)
    assert checked.delivery_code_attempts == 0


def test_the_reset_is_in_the_history_without_the_code(order, dispatcher, caplog):
    caplog.set_level(logging.DEBUG)

    reset = order_delivery_code_reset(actor=dispatcher, order=order)

    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.actor, event.details) == (
        "delivery_code_reset",
        "user:acme-dispatcher",
        {"attempts_before": 5},
    )
    assert (event.from_status, event.to_status, event.reason) == ("", "", "")
    assert reset.delivery_code not in caplog.text
    assert OLD_CODE not in caplog.text


@pytest.mark.parametrize("status", ["created", "planned", "dispatched", "delivered", "failed", "cancelled"])
def test_no_reset_outside_the_door_statuses_and_nothing_changes(order, dispatcher, status):
    Order.objects.filter(pk=order.pk).update(status=status)
    before = snapshot(order)

    with pytest.raises(DeliveryCodeNotResettable) as refused:
        order_delivery_code_reset(actor=dispatcher, order=order)

    assert refused.value.code == "delivery_code_not_resettable"
    assert refused.value.details == {"current_status": status, "requires_code": True}
    assert snapshot(order) == before
    assert not OrderEvent.objects.filter(order=order).exists()


def test_no_reset_for_an_order_without_a_code_and_nothing_changes(order, dispatcher):
    Order.objects.filter(pk=order.pk).update(proof_of_delivery=["signature"])
    before = snapshot(order)

    with pytest.raises(DeliveryCodeNotResettable) as refused:
        order_delivery_code_reset(actor=dispatcher, order=order)

    assert str(refused.value.message) == "This order does not ask for a one-time code, so there is none to reset."
    assert snapshot(order) == before
    assert not OrderEvent.objects.filter(order=order).exists()


def test_the_organizations_default_requirement_allows_a_reset(order, organization, dispatcher):
    organization.proof_of_delivery_default = ["one_time_code"]
    organization.save()
    Order.objects.filter(pk=order.pk).update(proof_of_delivery=[])

    reset = order_delivery_code_reset(actor=dispatcher, order=order)

    assert Order.objects.get(pk=order.pk).delivery_code_attempts == 0 == reset.delivery_code_attempts


# --- The API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("client_fixture", ["admin_client", "dispatcher_client"])
def test_admins_and_dispatchers_reset_the_code(request, order, client_fixture):
    api = request.getfixturevalue(client_fixture)

    response = api.post(url(order))

    assert response.status_code == 200
    assert response.json() == {"order_id": order.pk, "attempts_left": 5}
    stored = Order.objects.get(pk=order.pk)
    assert stored.delivery_code_attempts == 0
    assert OrderEvent.objects.filter(order=order, kind="delivery_code_reset").count() == 1
    # The answer never carries the code: the customer reads it on the tracking page.
    assert stored.delivery_code not in response.content.decode()


@pytest.mark.parametrize(
    ("client_fixture", "message"),
    [
        ("viewer_client", "The viewer role cannot use this endpoint."),
        ("driver_client", "The driver role cannot use this endpoint."),
        ("merchant_client", "API keys cannot reset a one-time code; a dispatcher or an admin does."),
    ],
)
def test_viewers_drivers_and_api_keys_are_refused_and_nothing_changes(request, order, client_fixture, message):
    api = request.getfixturevalue(client_fixture)
    before = snapshot(order)

    response = api.post(url(order))

    assert response.status_code == 403
    assert response.json()["message"] == message
    assert snapshot(order) == before
    assert not OrderEvent.objects.filter(order=order).exists()


def test_a_reset_outside_the_door_statuses_answers_409(dispatcher_client, order):
    Order.objects.filter(pk=order.pk).update(status="dispatched")
    before = snapshot(order)

    response = dispatcher_client.post(url(order))

    assert response.status_code == 409
    assert response.json() == {
        "code": "delivery_code_not_resettable",
        "message": "The one-time code can be reset only while the order is out for delivery or arrived; "
        "it is 'dispatched'.",
        "details": {"current_status": "dispatched", "requires_code": True},
    }
    assert snapshot(order) == before


def test_another_organizations_order_is_not_found(dispatcher_client, other_organization):
    from dispatch.models import Hub

    other_hub = Hub.objects.create(
        organization=other_organization, code="o-1", name="Other", address="Street 1", lat=60.17, lng=24.94
    )
    other = OrderFactory(
        hub=other_hub, status="out_for_delivery", proof_of_delivery=["one_time_code"], delivery_code=OLD_CODE
    )
    before = snapshot(other)

    response = dispatcher_client.post(url(other))

    assert response.status_code == 404
    assert snapshot(other) == before


def test_the_customers_page_shows_the_new_code_after_a_reset(client, dispatcher_client, order):
    assert OLD_CODE in client.get(f"/t/{order.tracking_token}").content.decode()

    dispatcher_client.post(url(order))

    new_code = Order.objects.get(pk=order.pk).delivery_code
    shown = client.get(f"/t/{order.tracking_token}").content.decode()
    assert f'data-testid="delivery-code-value">{new_code}<' in shown
    assert "New one-time code" in shown


# --- The control tower's order page -----------------------------------------------------------


def tower_page(user, order) -> str:
    browser = Client()
    browser.force_login(user)
    response = browser.get(f"/tower/orders/{order.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_tower_shows_the_tries_left_and_the_reset_button(dispatcher_user, order):
    Order.objects.filter(pk=order.pk).update(delivery_code_attempts=3)

    page = tower_page(dispatcher_user, order)

    assert "2 tries left before the code locks." in page
    assert 'data-testid="delivery-code-attempts-left" hidden>2<' in page
    assert f'action="/api/orders/{order.pk}/delivery-code/reset"' in page
    assert "csrfmiddlewaretoken" in page
    assert "tower/order.js" in page
    assert OLD_CODE not in page


def test_the_tower_says_when_the_code_is_locked(dispatcher_user, order):
    page = tower_page(dispatcher_user, order)

    assert "Locked after too many wrong codes." in page
    assert 'data-testid="delivery-code-reset"' in page


def test_a_viewer_sees_the_tries_left_but_no_button(viewer_user, order):
    page = tower_page(viewer_user, order)

    assert 'data-testid="delivery-code-attempts-left" hidden>0<' in page
    assert 'data-testid="delivery-code-reset"' not in page
    assert "tower/order.js" not in page


@pytest.mark.parametrize(
    ("status", "proofs"),
    [("dispatched", ["one_time_code"]), ("delivered", ["one_time_code"]), ("out_for_delivery", ["signature"])],
)
def test_no_code_section_when_the_door_does_not_need_one_now(dispatcher_user, order, status, proofs):
    Order.objects.filter(pk=order.pk).update(status=status, proof_of_delivery=proofs)

    page = tower_page(dispatcher_user, order)

    assert 'data-testid="delivery-code"' not in page
    assert 'data-testid="delivery-code-reset"' not in page
