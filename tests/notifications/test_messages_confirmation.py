"""An order is confirmed when it is accepted: at creation with its window (once per order, in bulk
too, at a cost that does not grow with the batch), once its flagged address is fixed, and again when
a slot is booked for it; planning and re-planning say nothing."""

# ruff: noqa: F811  (shared fixtures imported from the slot fixtures module)

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tenancy import Actor
from dispatch.execution.services import stops as execution
from notifications import handlers
from notifications.models import Message, OptOut
from orders.models import Order
from orders.services import order_transition, order_update
from tests.clock import START
from tests.dispatch.slots.test_slot_fixtures import (  # noqa: F401
    NEAR,
    crew,
    frozen,
    make_crew,
    make_order,
    make_template,
)
from tests.factories.orders import order_payload, order_rows
from tests.notifications.conftest import EMAIL, emails_to, sent
from tracking.views.tracking_page import slot_choices

pytestmark = pytest.mark.django_db


@pytest.fixture
def wednesday_order(hub, crew, frozen) -> Order:
    """An order of Wednesday 10-12 at a hub with slots 10-12 and 14-16. Created outside any
    captured commit, its creation told nothing: what a test sees is what it did."""
    make_template(hub, "10:00", "12:00")
    make_template(hub, "14:00", "16:00")
    order = make_order(hub, "SO-1", start="10:00", end="12:00")
    Order.objects.filter(pk=order.pk).update(customer_email=EMAIL)
    return Order.objects.get(pk=order.pk)


def test_an_order_created_through_the_api_is_confirmed_once_and_planning_says_nothing(
    merchant_client, hub, django_capture_on_commit_callbacks
):
    # given: an order created with its window
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post("/api/orders", order_payload("SO-1"), format="json")

    # when: it is planned, taken off the plan and planned again
    order = Order.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("planned", "validated", "planned"):
            order = order_transition(actor=None, order=order, to_status=status)

    # then: the customer heard once, at creation, with the window
    assert response.status_code == 201
    assert sent() == [("order_confirmed", "email", "sent")]
    [email] = emails_to("aino@example.fi")
    assert email.subject == "Your delivery SO-1 is scheduled"
    assert "scheduled for Tuesday 1 December between 10:00 and 12:00" in email.body
    assert (
        Message.objects.get().dedupe_key
        == f"order_confirmed:order:{order.pk}:window:{order.window_start.isoformat()}:email"
    )


def test_a_bulk_import_confirms_each_order_once_and_an_opted_out_customer_is_suppressed(
    organization, merchant_client, hub, django_capture_on_commit_callbacks
):
    rows = order_rows(30)
    for index, row in enumerate(rows):
        row["customer"] = {**row["customer"], "email": f"customer{index}@example.fi"}
    OptOut.objects.create(organization=organization, channel="email", contact="customer3@example.fi")

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json")

    assert response.status_code == 201
    told = Message.objects.filter(kind="order_confirmed")
    assert sorted(told.values_list("order__merchant_reference", flat=True)) == [f"BULK-{i:05d}" for i in range(30)]
    assert {(m.recipient, m.status, m.reason) for m in told if m.status != "sent"} == {
        ("customer3@example.fi", "suppressed", "opt_out")
    }
    assert told.filter(status="sent").count() == 29
    assert len(emails_to("customer7@example.fi")) == 1


@pytest.mark.parametrize("size", [1, 200])
def test_confirming_a_batch_costs_the_same_queries_whatever_its_size(merchant_client, hub, size):
    """The orders, the rules, the settings, the confirmations already queued, the organisation's
    wordings, the opt-outs, and one INSERT for the messages in its savepoint."""
    merchant_client.post("/api/orders/bulk", {"orders": order_rows(size)}, format="json")
    payload = {"organization_id": hub.organization_id, "order_ids": list(Order.objects.values_list("pk", flat=True))}

    with CaptureQueriesContext(connection) as queries:
        handlers.on_order_batch_created(payload)

    assert Message.objects.filter(kind="order_confirmed").count() == size
    statements = [query["sql"].split(" ")[0] for query in queries]
    assert statements == ["SELECT"] * 6 + ["SAVEPOINT", "INSERT", "RELEASE"]


def test_an_order_whose_address_was_not_found_is_confirmed_once_it_is_fixed(
    merchant_client, hub, django_capture_on_commit_callbacks
):
    body = order_payload("SO-1", address={"text": "Nowhere 1", "postcode": "00000"})
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post("/api/orders", body, format="json")
    order = Order.objects.get()
    assert (order.status, sent()) == ("created", [])

    with django_capture_on_commit_callbacks(execute=True):
        order_update(
            actor=Actor(organization=order.organization),
            order=order,
            changes={"address": {"text": "Aleksanterinkatu 52", "lat": NEAR[0], "lng": NEAR[1]}},
        )

    assert Order.objects.get().status == "validated"
    assert sent() == [("order_confirmed", "email", "sent")]


def test_an_order_created_in_a_held_slot_is_confirmed_once(
    merchant_client, hub, crew, frozen, django_capture_on_commit_callbacks
):
    slot = make_template(hub, "10:00", "12:00")
    hold = merchant_client.post(
        "/api/slots/holds",
        {"hub": "hel-1", "template": slot.pk, "date": "2026-12-02", "lat": NEAR[0], "lng": NEAR[1]},
        format="json",
    ).json()
    body = {
        "merchant_reference": "SO-SLOT",
        "slot_hold": hold["id"],
        "customer": {"name": "Aino", "email": EMAIL},
        "address": {"text": "Bulevardi 10", "lat": NEAR[0], "lng": NEAR[1]},
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post("/api/orders", body, format="json")

    assert response.status_code == 201, response.json()
    assert sent() == [("order_confirmed", "email", "sent")]
    assert "scheduled for Wednesday 2 December between 10:00 and 12:00" in emails_to(EMAIL)[0].body


def test_a_customer_moving_to_another_slot_is_confirmed_the_new_window_once(
    client, wednesday_order, django_capture_on_commit_callbacks
):
    order = wednesday_order

    # when: the customer picks 14-16 on the tracking page, and the order is planned afterwards
    value = "2026-12-02T14:00:00+02:00|2026-12-02T16:00:00+02:00"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/t/{order.tracking_token}", {"action": "reschedule", "slot": value})
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=None, order=order, to_status="planned")

    # then: one confirmation of the new window
    assert response.status_code == 302
    assert sent() == [("order_confirmed", "email", "sent")]
    assert "scheduled for Wednesday 2 December between 14:00 and 16:00" in emails_to(EMAIL)[0].body


def test_rescheduling_a_failed_order_into_a_slot_tells_rescheduled_once(
    dispatcher_client, wednesday_order, django_capture_on_commit_callbacks
):
    """order_rescheduled and order_slot_booked both arrive for this move: one message between them."""
    order = wednesday_order
    for status in ("planned", "dispatched", "out_for_delivery", "failed"):
        order = order_transition(actor=None, order=order, to_status=status)
    slot = {"start": "2026-12-02T14:00:00+02:00", "end": "2026-12-02T16:00:00+02:00"}

    with django_capture_on_commit_callbacks(execute=True):
        response = dispatcher_client.post(f"/api/orders/{order.pk}/reschedule", {"slot": slot}, format="json")

    assert response.status_code == 200, response.json()
    assert sent() == [("rescheduled", "email", "sent")]
    assert "rescheduled to Wednesday 2 December between 14:00 and 16:00" in emails_to(EMAIL)[0].body


def test_a_customer_picking_a_slot_after_a_failure_hears_rescheduled_for_each_pick(
    organization, hub, driver_actor, driver, make_stop, client, django_capture_on_commit_callbacks
):
    # given: a failed attempt where the policy leaves the new time to the customer
    organization.reattempt_same_day, organization.reschedule_policy = False, "customer_picks"
    organization.save()
    make_template(hub, "14:00", "16:00")
    make_template(hub, "16:00", "18:00")
    make_crew(hub)
    stop = make_stop(status="arrived")
    Order.objects.filter(pk=stop.order_id).update(status="arrived")
    with django_capture_on_commit_callbacks(execute=True):
        execution.stop_fail(actor=driver_actor, stop=stop, at=START, reason="customer_absent", driver=driver)
    order = Order.objects.get(pk=stop.order_id)
    first, second = (value for value, _label in slot_choices(order)[:2])

    # when: the customer picks a slot, then changes their mind
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/t/{order.tracking_token}", {"action": "reschedule", "slot": first})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/t/{order.tracking_token}", {"action": "reschedule", "slot": second})

    # then: "failed" asked them to pick; each pick is told once, as rescheduled
    assert Order.objects.get(pk=order.pk).status == "rescheduled"
    assert sent("rescheduled") == [("rescheduled", "email", "sent")] * 2
    assert sent("order_confirmed") == []
