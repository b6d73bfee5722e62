"""GET /api/slots/availability: what a checkout can really book, and why not otherwise."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

import datetime as dt

import pytest

from common.geo import haversine_m
from dispatch.models import Hub
from tests.dispatch.slots.test_slot_fixtures import (  # noqa: F401
    DAY,
    NEAR,
    availability,
    crew,
    frozen,
    make_crew,
    make_order,
    make_template,
    morning,
    slot_row,
)

pytestmark = pytest.mark.django_db


def test_a_free_slot_is_offered_with_price_remaining_and_cost(merchant_client, hub, crew, morning, frozen):
    response = availability(merchant_client)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["hub"] == "hel-1"
    [slot] = body["slots"]
    assert {k: v for k, v in slot.items() if k != "cost_indication"} == {
        "template": morning.pk,
        "date": "2026-12-02",
        "start": "2026-12-02T10:00:00+02:00",
        "end": "2026-12-02T12:00:00+02:00",
        "available": True,
        "capacity": 8,
        "remaining": 8,
        "price": "4.90",
        "reason": None,
    }
    assert slot["cost_indication"]["added_minutes"] > 0


def test_committed_orders_use_up_places(merchant_client, hub, crew, frozen):
    make_template(hub, "10:00", "12:00", manual_cap=2)
    make_order(hub, "A-1")
    make_order(hub, "A-2", start="10:30", end="11:30")  # starts inside the slot: counts too
    make_order(hub, "A-3", start="14:00", end="16:00")  # another slot

    slot = slot_row(availability(merchant_client), "10:00")

    assert (slot["available"], slot["remaining"], slot["reason"]) == (False, 0, "slot_full")
    assert slot["cost_indication"] is None


@pytest.mark.parametrize(
    ("fields", "now", "reason"),
    [
        pytest.param({"cutoff_minutes": 120}, "2026-12-02T07:59", None, id="before-minutes-cutoff"),
        pytest.param({"cutoff_minutes": 120}, "2026-12-02T08:00", "cutoff_passed", id="minutes-cutoff"),
        pytest.param({"cutoff_previous_day_at": dt.time(18)}, "2026-12-01T17:59", None, id="before-evening"),
        pytest.param({"cutoff_previous_day_at": dt.time(18)}, "2026-12-01T18:00", "cutoff_passed", id="evening"),
        pytest.param({"same_day_allowed": False}, "2026-12-02T07:00", "same_day_not_offered", id="same-day"),
        pytest.param({}, "2026-12-02T10:30", "cutoff_passed", id="already-started"),
    ],
)
def test_cutoffs_follow_the_clock(merchant_client, hub, crew, frozen, fields, now, reason):
    make_template(hub, "10:00", "12:00", **fields)
    frozen.at = dt.datetime.fromisoformat(now).replace(tzinfo=hub.tz)

    slot = slot_row(availability(merchant_client), "10:00")

    assert (slot["available"], slot["reason"]) == (reason is None, reason)


def test_a_window_the_vehicle_cannot_reach_is_refused_by_the_insertion_test(merchant_client, organization, frozen):
    """A point 35 km out takes 91 min by car: 08–09 is out of reach, 10–12 fits."""
    far_hub = Hub.objects.create(
        organization=organization,
        code="far",
        name="Far",
        address="x",
        lat=60.17,
        lng=24.94,
        timezone="Europe/Helsinki",
        service_radius_km=40,
    )
    make_crew(far_hub, parcels=0)
    make_template(far_hub, "08:00", "09:00")
    make_template(far_hub, "10:00", "12:00")
    point = (60.17 + 35 / 111.195, 24.94)

    response = availability(merchant_client, lat=point[0], lng=point[1])

    early, late = slot_row(response, "08:00"), slot_row(response, "10:00")
    assert (early["capacity"], early["available"], early["reason"]) == (2, False, "no_route_fits")
    assert (late["capacity"], late["available"], late["reason"]) == (4, True, None)
    leg_s = round(haversine_m(60.17, 24.94, *point) * 1.3 / (30 / 3.6))
    assert late["cost_indication"] == {
        "added_minutes": round(2 * leg_s / 60, 1),
        "added_km": round(2 * leg_s * 30 / 3.6 / 1000, 2),
    }


def test_a_load_larger_than_every_vehicle_fits_no_route(merchant_client, hub, crew, morning, frozen):
    slot = slot_row(availability(merchant_client, parcels=31), "10:00")

    assert (slot["available"], slot["reason"]) == (False, "no_route_fits")


def test_the_hub_is_chosen_by_service_area(merchant_client, organization, hub, crew, morning, frozen):
    east = Hub.objects.create(
        organization=organization,
        code="east",
        name="East",
        address="x",
        lat=60.40,
        lng=25.10,
        timezone="Europe/Helsinki",
        service_radius_km=5,
    )

    near_east = availability(merchant_client, lat=60.41, lng=25.10)
    central = availability(merchant_client)

    assert (near_east.status_code, near_east.json()) == (200, {"hub": east.code, "slots": []})
    assert central.json()["hub"] == "hel-1"


def test_an_address_outside_every_service_area_is_422(merchant_client, hub, morning, frozen):
    response = availability(merchant_client, lat=61.5, lng=23.8)

    assert response.status_code == 422
    assert response.json() == {
        "code": "address_outside_service_area",
        "message": "The address (61.50000, 23.80000) is outside the service area of any hub; no slot can be offered.",
        "details": {"lat": 61.5, "lng": 23.8, "hub": None},
    }


def test_a_named_hub_that_does_not_cover_the_point_is_422(merchant_client, hub, frozen):
    response = availability(merchant_client, lat=61.5, lng=23.8, hub="hel-1")

    assert (response.status_code, response.json()["details"]["hub"]) == (422, "hel-1")


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        pytest.param(
            {"lat": "north", "lng": "x"},
            {"lat": ["A valid number is required."], "lng": ["A valid number is required."]},
            id="not-numbers",
        ),
        pytest.param({"lat": 91}, {"lat": ["Ensure this value is less than or equal to 90."]}, id="lat-range"),
        pytest.param({"date_to": "2026-12-01"}, {"date_to": ["date_to must not be before date_from."]}, id="order"),
        pytest.param({"date_to": "2026-12-16"}, {"date_to": ["Ask for at most 14 days at a time."]}, id="span"),
        pytest.param({"hub": "nope"}, {"hub": ["Unknown hub 'nope'."]}, id="hub"),
        pytest.param({"parcels": -1}, {"parcels": ["Ensure this value is greater than or equal to 0."]}, id="load"),
    ],
)
def test_bad_queries_name_the_field(merchant_client, hub, frozen, params, errors):
    response = availability(merchant_client, **params)

    assert response.status_code == 400
    assert response.json() == {"code": "validation_error", "message": "Invalid input.", "errors": errors}


def test_coordinates_or_an_address_are_required(merchant_client, hub, frozen):
    response = merchant_client.get("/api/slots/availability", {"date_from": str(DAY)})

    assert (response.status_code, response.json()["errors"]) == (400, {"lat": ["Send lat and lng, or an address."]})


def test_another_organizations_hub_is_unknown(merchant_client, other_organization, frozen):
    Hub.objects.create(
        organization=other_organization,
        code="theirs",
        name="T",
        address="x",
        lat=60.17,
        lng=24.94,
        service_radius_km=10,
    )

    response = availability(merchant_client, hub="theirs")

    assert (response.status_code, response.json()["errors"]) == (400, {"hub": ["Unknown hub 'theirs'."]})


def test_slots_of_several_days_are_listed_in_order(merchant_client, hub, crew, frozen):
    make_template(hub, "10:00", "12:00", weekdays=["wed", "fri"])

    response = availability(merchant_client, date_to="2026-12-05")

    assert [s["date"] for s in response.json()["slots"]] == ["2026-12-02", "2026-12-04"]
    assert NEAR


def test_an_early_slot_fits_before_a_later_first_stop(merchant_client, hub, crew, frozen):
    """The car is free from 08:00 even though its first committed stop is only at 10:00."""
    make_template(hub, "08:00", "09:00")
    make_order(hub, "SO-1", start="10:00", end="12:00", point=(60.18, 24.95))

    slot = slot_row(availability(merchant_client), "08:00")

    assert (slot["available"], slot["reason"]) == (True, None)
