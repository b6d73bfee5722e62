"""Slot templates per hub: created by ops, validated, scoped to the organization; addresses geocoded."""

import pytest

from dispatch.models import Hub, SlotTemplate
from orders.gazetteer import gazetteer_load
from tests.dispatch.slots.test_slot_fixtures import DAY, crew, frozen, make_template  # noqa: F401

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

pytestmark = pytest.mark.django_db

BODY = {
    "hub": "hel-1",
    "name": "Morning",
    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "start_time": "10:00",
    "end_time": "12:00",
    "cutoff_previous_day_at": "20:00",
    "same_day_allowed": False,
    "manual_cap": None,
    "price": "4.90",
}


def test_a_dispatcher_creates_and_lists_templates(dispatcher_client, hub, other_organization):
    theirs = Hub.objects.create(
        organization=other_organization, code="t", name="T", address="x", lat=60.1, lng=24.9, service_radius_km=5
    )
    SlotTemplate.objects.create(
        organization=other_organization, hub=theirs, weekdays=["mon"], start_time="08:00", end_time="10:00"
    )

    created = dispatcher_client.post("/api/slots/templates", BODY, format="json")
    listed = dispatcher_client.get("/api/slots/templates")

    assert created.status_code == 201, created.json()
    assert created.json() == {
        "id": created.json()["id"],
        "hub": "hel-1",
        "name": "Morning",
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "start_time": "10:00:00",
        "end_time": "12:00:00",
        "cutoff_minutes": None,
        "cutoff_previous_day_at": "20:00:00",
        "same_day_allowed": False,
        "active": True,
        "manual_cap": None,
        "price": "4.90",
    }
    assert [t["hub"] for t in listed.json()["results"]] == ["hel-1"]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        pytest.param({"end_time": "09:00"}, {"end_time": ["The slot must end after it starts (same day)."]}, id="end"),
        pytest.param({"weekdays": ["someday"]}, {"weekdays[0]": ['"someday" is not a valid choice.']}, id="weekday"),
        pytest.param({"weekdays": []}, {"weekdays": ["This list may not be empty."]}, id="no-weekday"),
        pytest.param(
            {"cutoff_minutes": 60},
            {"cutoff_minutes": ["Give cutoff_minutes or cutoff_previous_day_at, not both."]},
            id="cutoffs",
        ),
        pytest.param({"hub": "t"}, {"hub": ["Unknown hub 't'."]}, id="hub"),
        pytest.param({"price": "-1"}, {"price": ["Ensure this value is greater than or equal to 0."]}, id="price"),
    ],
)
def test_bad_templates_name_the_field(dispatcher_client, hub, change, errors):
    response = dispatcher_client.post("/api/slots/templates", {**BODY, **change}, format="json")

    assert (response.status_code, response.json()["errors"]) == (400, errors)
    assert SlotTemplate.objects.count() == 0


def test_a_viewer_cannot_create_templates(viewer_client, hub):
    assert viewer_client.post("/api/slots/templates", BODY, format="json").status_code == 403


def test_availability_geocodes_a_text_address(merchant_client, hub, crew, frozen):
    gazetteer_load(
        [
            {
                "street": "Aleksanterinkatu",
                "housenumber": "52",
                "postcode": "00100",
                "city": "Helsinki",
                "lat": 60.1683063,
                "lng": 24.9424747,
            }
        ],
        source="osm:test",
        country="FI",
    )
    make_template(hub)

    found = merchant_client.get(
        "/api/slots/availability",
        {
            "address": "Aleksanterinkatu 52",
            "postcode": "00100",
            "city": "Helsinki",
            "date_from": str(DAY),
            "date_to": str(DAY),
        },
    )
    unknown = merchant_client.get("/api/slots/availability", {"address": "Nowhere Street 999", "date_from": str(DAY)})

    assert (found.status_code, len(found.json()["slots"])) == (200, 1)
    assert unknown.status_code == 422
    assert unknown.json() == {
        "code": "address_not_found",
        "message": "The address could not be located precisely enough; send lat and lng.",
    }


def test_demo_templates_are_created_once_per_hub(hub):
    from demo.seed import slot_templates_demo_seed

    created = slot_templates_demo_seed(organization=hub.organization)
    again = slot_templates_demo_seed(organization=hub.organization)

    assert (created, again) == (5, 0)
    assert [f"{t.start_time:%H}-{t.end_time:%H} {t.price}" for t in SlotTemplate.objects.all()] == [
        "08-10 3.90",
        "10-12 4.90",
        "12-14 4.90",
        "14-16 4.90",
        "16-18 5.90",
    ]
    assert SlotTemplate.objects.first().weekdays == ["mon", "tue", "wed", "thu", "fri", "sat"]
