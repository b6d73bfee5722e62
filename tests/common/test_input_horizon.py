"""Accepted nonsense is refused with field-level 400s: dates and windows outside the horizon.

The suite's today is 2026-11-30 in Helsinki; the horizon runs from one day back to 366 ahead.
"""

# Shared slot fixtures are imported; pyflakes reads their use as arguments as redefinitions.
# ruff: noqa: F811

import pytest

from dispatch.models import Plan, SlotHold
from orders.models import Order
from tests.clock import START, day
from tests.dispatch.slots.test_slot_fixtures import NEAR, crew, make_template  # noqa: F401
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db

RANGE = "Choose a date from 2026-11-29 to 2027-12-01."


@pytest.fixture(autouse=True)
def _stopped_clock(time_machine):
    """The messages quote the bounds to the minute."""
    time_machine.move_to(START, tick=False)


def validation_error(errors: dict) -> dict:
    return {"code": "validation_error", "message": "Invalid input.", "errors": errors}


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "2026-11-28", "2027-12-02"])
def test_a_plan_outside_the_horizon_is_refused(dispatcher_client, hub, date):
    response = dispatcher_client.post("/api/plans", {"hub_id": hub.pk, "date": date}, format="json")

    assert response.status_code == 400
    assert response.json() == validation_error({"date": [RANGE]})
    assert not Plan.objects.exists()


@pytest.mark.parametrize("date", ["2026-11-29", "2027-12-01"])
def test_a_plan_at_either_end_of_the_horizon_is_accepted(dispatcher_client, hub, date):
    response = dispatcher_client.post("/api/plans", {"hub_id": hub.pk, "date": date}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"date_from": "9999-12-31"}, "date_from", id="year 9999 overflowed (500)"),
        pytest.param({"date_from": "0001-01-01"}, "date_from", id="year 1 answered local mean time"),
        pytest.param({"date_from": str(day(1)), "date_to": "9999-12-31"}, "date_to", id="date_to"),
    ],
)
def test_availability_outside_the_horizon_is_refused(merchant_client, hub, params, field):
    response = merchant_client.get("/api/slots/availability", {"lat": NEAR[0], "lng": NEAR[1], **params})

    assert response.status_code == 400
    assert response.json() == validation_error({field: [RANGE]})


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        pytest.param({"date": "9999-12-31"}, {"date": [RANGE]}, id="template date"),
        pytest.param(
            {"start": "2016-12-02T10:00:00+02:00", "end": "2016-12-02T12:00:00+02:00"},
            {"end": ["The window has ended; it must end after 2026-11-29T06:00+00:00."]},
            id="window ten years ago",
        ),
    ],
)
def test_a_hold_outside_the_horizon_is_refused(merchant_client, hub, crew, body, errors):
    template = make_template(hub)
    base = {"hub": "hel-1", "template": template.pk, "lat": NEAR[0], "lng": NEAR[1]}
    if "start" in body:
        del base["template"]

    response = merchant_client.post("/api/slots/holds", {**base, **body}, format="json")

    assert response.status_code == 400
    assert response.json() == validation_error(errors)
    assert not SlotHold.objects.exists()


@pytest.mark.parametrize(
    ("window", "errors"),
    [
        pytest.param(
            {"start": "2026-11-20T10:00:00+02:00", "end": "2026-11-20T12:00:00+02:00"},
            {"time_windows[0].end": ["The window has ended; it must end after 2026-11-29T06:00+00:00."]},
            id="in the past",
        ),
        pytest.param(
            {"start": "2026-12-01T10:00:00+02:00", "end": "2036-12-01T10:00:00+02:00"},
            {"time_windows[0].end": ["A window lasts at most 24 hours."]},
            id="ten years long",
        ),
        pytest.param(
            {"start": "9999-12-30T10:00:00+02:00", "end": "9999-12-30T12:00:00+02:00"},
            {"time_windows[0].start": ["The window must start before 2027-12-01T06:00+00:00."]},
            id="year 9999",
        ),
    ],
)
def test_an_order_window_outside_the_horizon_is_refused(merchant_client, hub, window, errors):
    response = merchant_client.post("/api/orders", order_payload(time_windows=[window]), format="json")

    assert response.status_code == 400
    assert response.json() == validation_error(errors)
    assert not Order.objects.exists()


def test_a_form_body_to_optimize_is_refused_not_solved_as_nothing(dispatcher_client):
    """A multipart body parsed into an empty problem answered 200 with an empty solution."""
    response = dispatcher_client.post("/api/optimize", {"vehicles": "1", "jobs": "2"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("/api/vehicles", {"name": 42, "home_hub": "hel-1"}, "name", id="vehicle name"),
        pytest.param("/api/orders", order_payload(merchant_reference=1234), "merchant_reference", id="reference"),
        pytest.param(
            "/api/orders",
            order_payload(customer={"name": "Aino", "phone": 358401234567}),
            "customer.phone",
            id="phone losing its plus",
        ),
    ],
)
def test_a_number_is_not_taken_for_text(admin_client, hub, path, body, field):
    response = admin_client.post(path, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["Not a valid string."]}
