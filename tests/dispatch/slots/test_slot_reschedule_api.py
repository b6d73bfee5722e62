"""Rescheduling an order into another slot, and the next slots offered after a failed delivery."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

import pytest

from accounts.tenancy import Actor
from orders.lifecycle import OrderStatus
from orders.models import Order, OrderEvent
from orders.services import order_transition
from tests.dispatch.slots.test_slot_fixtures import DAY, crew, frozen, make_order, make_template  # noqa: F401

pytestmark = pytest.mark.django_db

SLOT_14 = {"start": "2026-12-02T14:00:00+02:00", "end": "2026-12-02T16:00:00+02:00"}


def failed(order: Order) -> Order:
    actor = Actor(organization=order.organization)
    for status in ("planned", "dispatched", "out_for_delivery", "failed"):
        order = order_transition(actor=actor, order=order, to_status=status)
    return order


@pytest.fixture
def slots(hub, crew):
    return make_template(hub, "10:00", "12:00"), make_template(hub, "14:00", "16:00", manual_cap=1)


def test_a_validated_order_moves_to_a_free_slot(dispatcher_client, hub, slots, frozen):
    order = make_order(hub, "SO-1")

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"slot": SLOT_14}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["time_windows"]) == ("validated", [SLOT_14])


def test_a_failed_order_becomes_rescheduled_with_the_new_window(dispatcher_client, hub, slots, frozen):
    order = failed(make_order(hub, "SO-1"))

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"slot": SLOT_14}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["time_windows"]) == ("rescheduled", [SLOT_14])
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds[-2:] == ["order_rescheduled", "order_updated"]


def test_a_full_slot_refuses_the_move_and_nothing_changes(dispatcher_client, hub, slots, frozen):
    make_order(hub, "SO-0", start="14:00", end="16:00")
    order = failed(make_order(hub, "SO-1"))
    events = OrderEvent.objects.count()

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"slot": SLOT_14}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "slot_full"
    order.refresh_from_db()
    assert (order.status, order.time_windows[0]["start"]) == ("failed", "2026-12-02T10:00:00+02:00")
    assert OrderEvent.objects.count() == events


def test_an_order_already_in_the_slot_does_not_count_against_itself(dispatcher_client, hub, slots, frozen):
    order = make_order(hub, "SO-1", start="14:00", end="16:00")

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"slot": SLOT_14}, format="json")

    assert response.status_code == 200, response.json()


def test_a_delivered_order_cannot_be_rescheduled(dispatcher_client, hub, slots, frozen):
    order = make_order(hub, "SO-1")
    actor = Actor(organization=order.organization)
    for status in ("planned", "dispatched", "out_for_delivery", "arrived", "delivered"):
        order = order_transition(actor=actor, order=order, to_status=status)

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"slot": SLOT_14}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "order_not_editable")
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_a_reschedule_through_a_hold_confirms_it(dispatcher_client, hub, slots, frozen):
    order = failed(make_order(hub, "SO-1"))
    body = {"hub": "hel-1", "template": slots[1].pk, "date": str(DAY), "lat": order.lat, "lng": order.lng}
    hold = dispatcher_client.post("/api/slots/holds", body, format="json").json()

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"hold": hold["id"]}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["time_windows"]) == ("rescheduled", [SLOT_14])


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        pytest.param({}, {"slot": ["Give a slot {start, end} or a hold id, not both."]}, id="nothing"),
        pytest.param(
            {"slot": {"start": "2026-12-02T14:00:00+02:00", "end": "2026-12-02T13:00:00+02:00"}},
            {"slot.end": ["The window must end after it starts."]},
            id="backwards",
        ),
        pytest.param(
            {"slot": {"start": "2026-12-02T09:00:00+02:00", "end": "2026-12-02T11:00:00+02:00"}},
            {"start": ["No slot of hub 'hel-1' runs from 2026-12-02 09:00 to 11:00."]},
            id="no-such-slot",
        ),
        pytest.param({"hold": 999}, {"hold": ["Unknown hold."]}, id="unknown-hold"),
    ],
)
def test_bad_reschedule_bodies_name_the_field(dispatcher_client, hub, slots, frozen, body, errors):
    order = make_order(hub, "SO-1")

    response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", body, format="json")

    assert (response.status_code, response.json()["errors"]) == (400, errors)


def test_next_slots_after_a_failed_delivery(dispatcher_client, hub, slots, frozen):
    """Tuesday 08:00: today's 10–12 and 14–16, then Wednesday's 10–12 (its 14–16 is full)."""
    make_order(hub, "SO-0", start="14:00", end="16:00")
    order = failed(make_order(hub, "SO-1"))

    response = dispatcher_client.get(f"/api/orders/{order.pk}/next-slots", {"limit": 3})

    assert response.status_code == 200, response.json()
    assert [(s["start"], s["remaining"]) for s in response.json()["slots"]] == [
        ("2026-12-01T10:00:00+02:00", 8),
        ("2026-12-01T14:00:00+02:00", 1),
        ("2026-12-02T10:00:00+02:00", 8),
    ]


def test_next_slots_validates_its_query(dispatcher_client, hub, slots, frozen):
    order = make_order(hub, "SO-1")

    response = dispatcher_client.get(f"/api/orders/{order.pk}/next-slots", {"days": 30})

    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"days": ["Ensure this value is less than or equal to 14."]},
    )


def test_another_organizations_order_is_not_found(dispatcher_client, other_organization, frozen):
    theirs = Order.objects.create(organization=other_organization, merchant_reference="T-1", customer_name="x")

    reschedule = dispatcher_client.post(f"/api/orders/{theirs.pk}/reschedule", {"slot": SLOT_14}, format="json")
    next_slots = dispatcher_client.get(f"/api/orders/{theirs.pk}/next-slots")

    assert (reschedule.status_code, next_slots.status_code) == (404, 404)
