"""Delivered and failed are recorded at the door: a merchant's API key cannot move an order there."""

import pytest

from accounts.models import Role
from accounts.tenancy import Actor
from orders.errors import TransitionNotPermitted
from orders.lifecycle import API_KEY, OrderStatus, may_record
from orders.models import Order, OrderEvent
from orders.services import order_transition
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db
S = OrderStatus


@pytest.fixture
def order(merchant_client, hub):
    return Order.objects.get(pk=merchant_client.post("/api/orders", order_payload(), format="json").json()["id"])


def _message(target):
    return (
        f"Only a driver or a dispatcher can move an order to '{target}': it is recorded at the door, "
        "with the proof the order asks for."
    )


DOORSTEP_MOVES = [(S.ARRIVED, S.DELIVERED), (S.ARRIVED, S.FAILED), (S.OUT_FOR_DELIVERY, S.FAILED)]


@pytest.mark.parametrize(("source", "target"), DOORSTEP_MOVES)
def test_an_api_key_cannot_record_a_delivery_or_a_failure(merchant_client, order, source, target):
    Order.objects.filter(pk=order.pk).update(status=source)
    before = OrderEvent.objects.count()

    response = merchant_client.post(f"/api/orders/{order.pk}/transition", {"status": target}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "code": "transition_not_permitted",
        "message": _message(target),
        "errors": {"status": [_message(target)]},
    }
    assert Order.objects.get(pk=order.pk).status == source
    assert OrderEvent.objects.count() == before


@pytest.mark.parametrize("target", [S.DELIVERED, S.FAILED])
def test_a_dispatcher_records_a_delivery_or_a_failure(dispatcher_client, order, target):
    Order.objects.filter(pk=order.pk).update(status=S.ARRIVED)

    response = dispatcher_client.post(f"/api/orders/{order.pk}/transition", {"status": target}, format="json")

    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status == target
    assert OrderEvent.objects.latest("id").actor == "user:acme-dispatcher"


def test_a_driver_records_a_delivery(order, driver_user):
    Order.objects.filter(pk=order.pk).update(status=S.ARRIVED)

    driver = Actor(organization=order.organization, user=driver_user)

    moved = order_transition(actor=driver, order=order, to_status=S.DELIVERED)

    assert Order.objects.get(pk=order.pk).status == S.DELIVERED == moved.status


def test_an_api_key_may_have_a_failed_order_returned(merchant_client, order):
    """Returning the parcel instead of another attempt is the sender's decision, like rescheduling."""
    Order.objects.filter(pk=order.pk).update(status=S.FAILED)

    response = merchant_client.post(f"/api/orders/{order.pk}/transition", {"status": "returned"}, format="json")

    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status == S.RETURNED


def test_the_customer_on_the_tracking_page_cannot_record_a_delivery(order):
    Order.objects.filter(pk=order.pk).update(status=S.ARRIVED)
    customer = Actor(organization=order.organization, name="customer")

    with pytest.raises(TransitionNotPermitted):
        order_transition(actor=customer, order=order, to_status=S.DELIVERED)

    assert Order.objects.get(pk=order.pk).status == S.ARRIVED


KINDS = [None, API_KEY, Role.ADMIN, Role.DISPATCHER, Role.DRIVER, Role.VIEWER]
DOOR = {None, Role.ADMIN, Role.DISPATCHER, Role.DRIVER}


@pytest.mark.parametrize("kind", KINDS, ids=[str(k) for k in KINDS])
@pytest.mark.parametrize("target", S.values)
def test_who_may_record_each_status(kind, target):
    expected = kind in DOOR if target in (S.DELIVERED, S.FAILED) else True

    assert may_record(actor_kind=kind, target=target) is expected
