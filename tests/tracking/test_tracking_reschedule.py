"""Customers move their delivery to another bookable slot from the tracking page."""

# ruff: noqa: F811  (shared fixtures imported from the slot fixtures module)

import pytest

from orders.models import Order, OrderEvent
from tests.dispatch.slots.test_slot_fixtures import crew, frozen, make_order, make_template  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(hub, crew, frozen):
    make_template(hub, "10:00", "12:00")
    make_template(hub, "14:00", "16:00")
    return make_order(hub, "SO-R1", start="10:00", end="12:00")


def test_the_customer_sees_the_next_slots_only_when_asking(client, order):
    plain = client.get(f"/t/{order.tracking_token}").content.decode()
    asked = client.get(f"/t/{order.tracking_token}?reschedule=1").content.decode()

    assert "Choose another delivery time" in plain
    assert "Wed 02 Dec 14:00–16:00" not in plain
    assert "Wed 02 Dec 14:00–16:00" in asked


def test_moving_to_another_slot_changes_the_window_and_the_history(client, order):
    value = "2026-12-02T14:00:00+02:00|2026-12-02T16:00:00+02:00"

    response = client.post(f"/t/{order.tracking_token}", {"action": "reschedule", "slot": value})

    assert response.status_code == 302
    moved = Order.objects.get(pk=order.pk)
    assert moved.time_windows == [{"start": "2026-12-02T14:00:00+02:00", "end": "2026-12-02T16:00:00+02:00"}]
    assert OrderEvent.objects.filter(order=order, actor="customer").exists()


def test_a_slot_that_is_not_offered_is_refused(client, order):
    response = client.post(
        f"/t/{order.tracking_token}", {"action": "reschedule", "slot": "2026-12-02T03:00:00+02:00|x"}
    )

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert Order.objects.get(pk=order.pk).time_windows[0]["start"].startswith("2026-12-02T10:00:00")
