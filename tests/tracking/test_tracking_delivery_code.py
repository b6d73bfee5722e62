"""The tracking page shows the one-time code only while it is needed, and takes a door code for the driver."""

import pytest

from orders.models import Order, OrderEvent
from tests.factories.fleet import OrderFactory

pytestmark = pytest.mark.django_db
CODE_TESTID = 'data-testid="delivery-code-value">482913<'


@pytest.fixture
def order(hub):
    return OrderFactory(hub=hub, status="dispatched", proof_of_delivery=["one_time_code"], delivery_code="482913")


def page(client, order) -> str:
    response = client.get(f"/t/{order.tracking_token}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("status", ["out_for_delivery", "arrived"])
def test_the_code_is_shown_while_the_driver_is_on_the_way_or_at_the_door(client, order, status):
    Order.objects.filter(pk=order.pk).update(status=status)

    shown = page(client, order)

    assert CODE_TESTID in shown
    assert "Give this code to the driver when your delivery arrives." in shown


@pytest.mark.parametrize("status", ["validated", "planned", "dispatched", "delivered", "failed", "cancelled"])
def test_the_code_is_never_shown_before_the_driver_sets_off_or_after_the_delivery_ended(client, order, status):
    Order.objects.filter(pk=order.pk).update(status=status)

    shown = page(client, order)

    assert "482913" not in shown
    assert 'data-testid="delivery-code"' not in shown


def test_an_order_that_does_not_require_the_code_does_not_show_it(client, order):
    Order.objects.filter(pk=order.pk).update(status="out_for_delivery", proof_of_delivery=["signature"])

    assert "482913" not in page(client, order)


def test_the_organizations_default_requirement_shows_the_code(client, order, organization):
    organization.proof_of_delivery_default = ["one_time_code"]
    organization.save()
    Order.objects.filter(pk=order.pk).update(status="out_for_delivery", proof_of_delivery=[])

    assert CODE_TESTID in page(client, order)


def test_the_customer_sets_a_door_code_recorded_without_the_code_itself(client, order):
    response = client.post(f"/t/{order.tracking_token}", {"action": "access_code", "access_code": "B 4721"})

    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).access_code == "B 4721"
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.kind, event.actor, event.details) == ("access_code_updated", "customer", {"set": True})
    shown = page(client, order)
    assert 'data-testid="access-code-saved">A code is saved for your driver.<' in shown
    assert "B 4721" not in shown


def test_an_empty_door_code_removes_the_saved_one(client, order):
    Order.objects.filter(pk=order.pk).update(access_code="1234")

    client.post(f"/t/{order.tracking_token}", {"action": "access_code", "access_code": ""})

    assert Order.objects.get(pk=order.pk).access_code == ""
    assert OrderEvent.objects.filter(order=order).latest("id").details == {"set": False}


def test_the_door_code_cannot_change_once_the_driver_has_arrived(client, order):
    Order.objects.filter(pk=order.pk).update(status="arrived", access_code="1234")
    events_before = OrderEvent.objects.filter(order=order).count()

    response = client.post(f"/t/{order.tracking_token}", {"action": "access_code", "access_code": "9999"}, follow=True)

    assert "The door code can no longer be changed for this delivery." in response.content.decode()
    assert Order.objects.get(pk=order.pk).access_code == "1234"
    assert OrderEvent.objects.filter(order=order).count() == events_before


def test_a_door_code_longer_than_64_characters_is_refused(client, order):
    response = client.post(f"/t/{order.tracking_token}", {"action": "access_code", "access_code": "9" * 65})

    assert response.status_code == 200
    assert "Ensure this value has at most 64 characters" in response.content.decode()
    assert Order.objects.get(pk=order.pk).access_code == ""
