"""Holds: a place kept for a checkout until it expires, then confirmed onto an order or released."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

import pytest

from dispatch.models import HoldStatus, Hub, SlotHold, SlotTemplate
from dispatch.slots.services import slot_holds_expire
from dispatch.slots.tasks import slot_holds_expire_task
from orders.models import Order, OrderEvent
from tests.dispatch.slots.test_slot_fixtures import (  # noqa: F401
    DAY,
    NEAR,
    availability,
    crew,
    frozen,
    make_order,
    make_template,
    slot_row,
)

pytestmark = pytest.mark.django_db


def hold_body(slot, **overrides) -> dict:
    body = {
        "hub": "hel-1",
        "template": slot.pk,
        "date": str(DAY),
        "lat": NEAR[0],
        "lng": NEAR[1],
        "load": {"kg": 2, "parcels": 1},
    }
    return {**body, **overrides}


@pytest.fixture
def capped(hub, crew):
    return make_template(hub, "10:00", "12:00", manual_cap=2)


def test_a_hold_takes_a_place_until_it_expires(merchant_client, hub, capped, frozen):
    response = merchant_client.post("/api/slots/holds", hold_body(capped), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("hub", "template", "date", "start", "end", "status", "expires_at", "order")} == {
        "hub": "hel-1",
        "template": capped.pk,
        "date": "2026-12-02",
        "start": "2026-12-02T10:00:00+02:00",
        "end": "2026-12-02T12:00:00+02:00",
        "status": "active",
        "expires_at": "2026-12-01T06:10:00Z",
        "order": None,
    }
    assert slot_row(availability(merchant_client), "10:00")["remaining"] == 1


def test_a_hold_by_start_and_end_finds_the_template(merchant_client, hub, capped, frozen):
    body = hold_body(capped, start="2026-12-02T10:00:00+02:00", end="2026-12-02T12:00:00+02:00")
    del body["template"], body["date"]

    response = merchant_client.post("/api/slots/holds", body, format="json")

    assert (response.status_code, response.json()["template"]) == (201, capped.pk)


def test_a_full_slot_refuses_the_next_hold(merchant_client, hub, capped, frozen):
    for _ in range(2):
        assert merchant_client.post("/api/slots/holds", hold_body(capped), format="json").status_code == 201

    response = merchant_client.post("/api/slots/holds", hold_body(capped), format="json")

    assert response.status_code == 409
    assert response.json() == {"code": "slot_full", "message": "This slot is full.", "details": {"reason": "slot_full"}}
    assert SlotHold.objects.count() == 2


def test_an_expired_hold_gives_its_place_back_and_the_sweep_marks_it(merchant_client, hub, capped, frozen):
    for _ in range(2):
        merchant_client.post("/api/slots/holds", hold_body(capped), format="json")
    frozen.advance(minutes=10)

    remaining = slot_row(availability(merchant_client), "10:00")["remaining"]
    swept = slot_holds_expire_task.apply().result

    assert remaining == 2
    assert swept == 2
    assert set(SlotHold.objects.values_list("status", flat=True)) == {HoldStatus.EXPIRED}
    assert slot_holds_expire() == 0


def test_a_hold_is_confirmed_onto_an_order_which_takes_the_slot_window(merchant_client, hub, capped, frozen):
    order = make_order(hub, "SO-1", start="14:00", end="16:00")
    hold = merchant_client.post("/api/slots/holds", hold_body(capped), format="json").json()

    response = merchant_client.post(f"/api/slots/holds/{hold['id']}/confirm", {"order_id": order.pk}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["order"]) == ("confirmed", order.pk)
    order.refresh_from_db()
    assert order.time_windows == [{"start": "2026-12-02T10:00:00+02:00", "end": "2026-12-02T12:00:00+02:00"}]
    # The order now counts in the slot and the confirmed hold no longer does.
    assert slot_row(availability(merchant_client), "10:00")["remaining"] == 1
    assert OrderEvent.objects.filter(order=order, kind="order_updated").count() == 1


def test_an_expired_hold_cannot_be_confirmed(merchant_client, hub, capped, frozen):
    order = make_order(hub, "SO-1", start="14:00", end="16:00")
    hold = merchant_client.post("/api/slots/holds", hold_body(capped), format="json").json()
    frozen.advance(minutes=10, seconds=1)

    response = merchant_client.post(f"/api/slots/holds/{hold['id']}/confirm", {"order_id": order.pk}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "hold_expired",
        "message": f"Hold {hold['id']} is expired; hold the slot again.",
        "details": {"status": "expired"},
    }
    order.refresh_from_db()
    assert order.time_windows[0]["start"] == "2026-12-02T14:00:00+02:00"


def test_a_released_hold_frees_its_place(merchant_client, hub, capped, frozen):
    hold = merchant_client.post("/api/slots/holds", hold_body(capped), format="json").json()

    response = merchant_client.post(f"/api/slots/holds/{hold['id']}/release", format="json")

    assert (response.status_code, response.json()["status"]) == (200, "released")
    assert slot_row(availability(merchant_client), "10:00")["remaining"] == 2


def test_the_same_idempotency_key_replays_the_hold(merchant_client, hub, capped, frozen):
    first = merchant_client.post("/api/slots/holds", hold_body(capped), format="json", HTTP_IDEMPOTENCY_KEY="co-1")
    second = merchant_client.post("/api/slots/holds", hold_body(capped), format="json", HTTP_IDEMPOTENCY_KEY="co-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert SlotHold.objects.count() == 1


def test_a_hold_outside_the_hub_area_is_422(merchant_client, hub, capped, frozen):
    response = merchant_client.post("/api/slots/holds", hold_body(capped, lat=61.5, lng=23.8), format="json")

    assert (response.status_code, response.json()["code"]) == (422, "address_outside_service_area")
    assert SlotHold.objects.count() == 0


def test_a_slot_not_offered_that_day_is_refused(merchant_client, hub, crew, frozen):
    weekend = make_template(hub, "10:00", "12:00", weekdays=["sat", "sun"])

    response = merchant_client.post("/api/slots/holds", hold_body(weekend), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "not_offered")


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        pytest.param({"template": None}, {"template": ["This field may not be null."]}, id="template-null"),
        pytest.param(
            {"date": "soon"},
            {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
            id="date",
        ),
        pytest.param(
            {"load": {"parcels": -1}}, {"load.parcels": ["Ensure this value is greater than or equal to 0."]}, id="load"
        ),
        pytest.param({"lat": 100}, {"lat": ["Ensure this value is less than or equal to 90."]}, id="lat"),
    ],
)
def test_bad_hold_bodies_name_the_field(merchant_client, hub, capped, frozen, change, errors):
    response = merchant_client.post("/api/slots/holds", hold_body(capped, **change), format="json")

    assert (response.status_code, response.json()["errors"]) == (400, errors)
    assert SlotHold.objects.count() == 0


def test_start_and_end_must_match_a_slot(merchant_client, hub, capped, frozen):
    body = hold_body(capped, start="2026-12-02T09:00:00+02:00", end="2026-12-02T11:00:00+02:00")
    del body["template"], body["date"]

    response = merchant_client.post("/api/slots/holds", body, format="json")

    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"start": ["No slot of hub 'hel-1' runs from 2026-12-02 09:00 to 11:00."]},
    )


def test_other_organizations_holds_and_orders_are_not_found(merchant_client, hub, capped, other_organization, frozen):
    theirs_hub = Hub.objects.create(
        organization=other_organization, code="t", name="T", address="x", lat=60.17, lng=24.94, service_radius_km=10
    )
    theirs = SlotTemplate.objects.create(
        organization=other_organization, hub=theirs_hub, weekdays=["wed"], start_time="10:00", end_time="12:00"
    )
    their_hold = SlotHold.objects.create(
        organization=other_organization,
        hub=theirs_hub,
        template=theirs,
        date=DAY,
        start=frozen.at,
        end=frozen.at,
        lat=60.17,
        lng=24.94,
        expires_at=frozen.at,
        created_by="x",
    )
    mine = merchant_client.post("/api/slots/holds", hold_body(capped), format="json").json()
    their_order = Order.objects.create(organization=other_organization, merchant_reference="T-1", customer_name="x")

    confirm_theirs = merchant_client.post(f"/api/slots/holds/{their_hold.pk}/confirm", {"order_id": 1}, format="json")
    with_their_order = merchant_client.post(
        f"/api/slots/holds/{mine['id']}/confirm", {"order_id": their_order.pk}, format="json"
    )
    their_template = merchant_client.post("/api/slots/holds", hold_body(theirs), format="json")

    assert confirm_theirs.status_code == 404
    assert (with_their_order.status_code, with_their_order.json()["errors"]) == (400, {"order_id": ["Unknown order."]})
    assert (their_template.status_code, their_template.json()["code"]) == (422, "slot_not_found")
    assert SlotHold.objects.get(pk=mine["id"]).status == HoldStatus.ACTIVE


def test_a_viewer_cannot_hold(viewer_client, hub, capped, frozen):
    response = viewer_client.post("/api/slots/holds", hold_body(capped), format="json")

    assert response.status_code == 403
    assert SlotHold.objects.count() == 0


def test_an_order_created_with_a_hold_takes_its_window_and_confirms_it(merchant_client, hub, capped, frozen):
    hold = merchant_client.post("/api/slots/holds", hold_body(capped), format="json").json()
    body = {
        "merchant_reference": "SO-SLOT",
        "slot_hold": hold["id"],
        "customer": {"name": "Aino"},
        "address": {"text": "Bulevardi 10", "lat": NEAR[0], "lng": NEAR[1]},
    }

    response = merchant_client.post("/api/orders", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["time_windows"] == [
        {"start": "2026-12-02T10:00:00+02:00", "end": "2026-12-02T12:00:00+02:00"}
    ]
    assert response.json()["hub"] == "hel-1"
    saved = SlotHold.objects.get(pk=hold["id"])
    assert (saved.status, saved.order.merchant_reference) == (HoldStatus.CONFIRMED, "SO-SLOT")


def test_an_expired_hold_refuses_the_order_and_creates_nothing(merchant_client, hub, capped, frozen):
    hold = merchant_client.post("/api/slots/holds", hold_body(capped), format="json").json()
    frozen.advance(minutes=11)
    body = {
        "merchant_reference": "SO-LATE",
        "slot_hold": hold["id"],
        "customer": {"name": "Aino"},
        "address": {"text": "Bulevardi 10", "lat": NEAR[0], "lng": NEAR[1]},
    }

    response = merchant_client.post("/api/orders", body, format="json")

    assert response.status_code == 409, response.json()
    assert not Order.objects.filter(merchant_reference="SO-LATE").exists()


def test_an_unknown_hold_is_a_field_error(merchant_client, hub, capped, frozen):
    body = {
        "merchant_reference": "SO-X",
        "slot_hold": 999999,
        "customer": {"name": "Aino"},
        "address": {"text": "Bulevardi 10", "lat": NEAR[0], "lng": NEAR[1]},
    }

    response = merchant_client.post("/api/orders", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"slot_hold": ["Unknown slot hold '999999'."]}
