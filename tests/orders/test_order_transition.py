import datetime as dt

import pytest

from accounts.tenancy import Actor
from orders.errors import InvalidTransition
from orders.lifecycle import TRANSITIONS, OrderStatus
from orders.models import Order, OrderEvent
from orders.services import order_transition, order_transition_backfill
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db
S = OrderStatus

ALLOWED = [
    (S.CREATED, S.VALIDATED),
    (S.CREATED, S.CANCELLED),
    (S.VALIDATED, S.PLANNED),
    (S.VALIDATED, S.CANCELLED),
    (S.PLANNED, S.DISPATCHED),
    (S.PLANNED, S.VALIDATED),
    (S.PLANNED, S.CANCELLED),
    (S.DISPATCHED, S.OUT_FOR_DELIVERY),
    (S.DISPATCHED, S.VALIDATED),
    (S.DISPATCHED, S.CANCELLED),
    (S.OUT_FOR_DELIVERY, S.ARRIVED),
    (S.OUT_FOR_DELIVERY, S.FAILED),
    (S.ARRIVED, S.DELIVERED),
    (S.ARRIVED, S.FAILED),
    (S.FAILED, S.RESCHEDULED),
    (S.FAILED, S.RETURNED),
    (S.RESCHEDULED, S.PLANNED),
    (S.RESCHEDULED, S.CANCELLED),
]
FORBIDDEN = [(a, b) for a in S.values for b in S.values if (a, b) not in ALLOWED]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.fixture
def order(merchant_client, hub):
    return Order.objects.get(pk=merchant_client.post("/api/orders", order_payload(), format="json").json()["id"])


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_moves_change_status_and_append_one_event(order, source, target):
    Order.objects.filter(pk=order.pk).update(status=source)
    before = OrderEvent.objects.count()

    moved = order_transition(actor=Actor(organization=order.organization), order=order, to_status=target, reason="test")

    assert Order.objects.get(pk=order.pk).status == target == moved.status
    event = OrderEvent.objects.latest("id")
    assert OrderEvent.objects.count() == before + 1
    assert (event.kind, event.from_status, event.to_status, event.reason) == (
        f"order_{target}",
        source,
        target,
        "test",
    )


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}-x->{b}" for a, b in FORBIDDEN])
def test_forbidden_moves_are_refused_and_change_nothing(order, source, target):
    Order.objects.filter(pk=order.pk).update(status=source)
    before = OrderEvent.objects.count()

    with pytest.raises(InvalidTransition) as refusal:
        order_transition(actor=None, order=order, to_status=target)

    assert refusal.value.details["allowed"] == sorted(TRANSITIONS[source])
    assert Order.objects.get(pk=order.pk).status == source
    assert OrderEvent.objects.count() == before


def test_illegal_move_through_the_api_answers_409_saying_what_is_allowed(dispatcher_client, order):
    response = dispatcher_client.post(f"/api/orders/{order.pk}/transition", {"status": "delivered"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_transition",
        "message": "An order in status 'validated' cannot move to 'delivered'. Allowed: cancelled, planned.",
        "details": {
            "current_status": "validated",
            "requested_status": "delivered",
            "allowed": ["cancelled", "planned"],
        },
    }


def test_cancel_records_who_and_why(merchant_client, order):
    response = merchant_client.post(
        f"/api/orders/{order.pk}/cancel", {"reason": "customer changed mind"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    events = merchant_client.get(f"/api/orders/{order.pk}/events").json()
    assert [(e["kind"], e["actor"], e["reason"]) for e in events][-1] == (
        "order_cancelled",
        "api_key:Web shop",
        "customer changed mind",
    )


def test_cannot_cancel_once_out_for_delivery(merchant_client, order):
    Order.objects.filter(pk=order.pk).update(status=S.OUT_FOR_DELIVERY)

    response = merchant_client.post(f"/api/orders/{order.pk}/cancel", {}, format="json")

    assert response.status_code == 409
    assert response.json()["details"]["allowed"] == ["arrived", "failed"]


def test_history_rows_cannot_be_changed_or_deleted(order):
    event = OrderEvent.objects.filter(order=order).first()
    event.reason = "rewritten"

    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


def test_update_is_allowed_before_dispatch_and_refused_after(merchant_client, order):
    ok = merchant_client.patch(f"/api/orders/{order.pk}", {"instructions": "Ring twice", "priority": 50}, format="json")
    Order.objects.filter(pk=order.pk).update(status=S.DISPATCHED)
    refused = merchant_client.patch(f"/api/orders/{order.pk}", {"instructions": "Later"}, format="json")

    assert ok.status_code == 200
    assert (ok.json()["instructions"], ok.json()["priority"]) == ("Ring twice", 50)
    assert refused.status_code == 409
    assert refused.json()["code"] == "order_not_editable"
    assert Order.objects.get(pk=order.pk).instructions == "Ring twice"


def test_moving_the_address_outside_the_area_flags_it(merchant_client, order):
    response = merchant_client.patch(
        f"/api/orders/{order.pk}",
        {"address": {"text": "Tampere", "lat": 61.4978, "lng": 23.761}},
        format="json",
    )

    assert response.status_code == 200
    address = response.json()["address"]
    assert address["address_issue"] == "address_outside_service_area"
    assert address["address_issue_detail"] == "The address is outside the service area of hub 'hel-1'."


def test_fixing_the_address_validates_the_order_through_its_transition(merchant_client, hub):
    body = order_payload(address={"text": "Tampere", "lat": 61.4978, "lng": 23.761})
    created = merchant_client.post("/api/orders", body, format="json").json()

    response = merchant_client.patch(
        f"/api/orders/{created['id']}",
        {"address": {"text": "Aleksanterinkatu 52", "lat": 60.1688, "lng": 24.944}},
        format="json",
    )

    assert (created["status"], response.json()["status"]) == ("created", "validated")
    history = OrderEvent.objects.filter(order_id=created["id"]).values_list("kind", "actor", "from_status", "to_status")
    assert list(history) == [
        ("order_created", "api_key:Web shop", "", "created"),
        ("address_flagged", "api_key:Web shop", "", ""),
        ("order_updated", "api_key:Web shop", "", ""),
        ("order_validated", "system", "created", "validated"),
    ]


@pytest.fixture
def two_orders(merchant_client, hub):
    return [
        Order.objects.get(pk=merchant_client.post("/api/orders", order_payload(ref), format="json").json()["id"])
        for ref in ("SO-1", "SO-2")
    ]


def test_the_backfill_moves_every_order_and_dates_its_history(two_orders):
    orders = two_orders
    when = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)

    moved = order_transition_backfill(actor=None, orders=orders, to_status=S.PLANNED, at={orders[0].pk: when})

    assert [o.status for o in moved] == ["planned", "planned"]
    assert set(Order.objects.values_list("status", flat=True)) == {"planned"}
    added = OrderEvent.objects.filter(kind="order_planned").order_by("order_id")
    assert [(e.order_id, e.actor, e.from_status, e.to_status) for e in added] == [
        (orders[0].pk, "system", "validated", "planned"),
        (orders[1].pk, "system", "validated", "planned"),
    ]
    assert added[0].at == when


def test_the_backfill_refuses_the_whole_batch_for_one_illegal_move(two_orders):
    orders = two_orders
    Order.objects.filter(pk=orders[1].pk).update(status=S.DELIVERED)
    before = OrderEvent.objects.count()

    with pytest.raises(InvalidTransition) as refusal:
        order_transition_backfill(actor=None, orders=orders, to_status=S.PLANNED)

    assert refusal.value.details == {"current_status": "delivered", "requested_status": "planned", "allowed": []}
    assert list(Order.objects.order_by("pk").values_list("status", flat=True)) == ["validated", "delivered"]
    assert OrderEvent.objects.count() == before
