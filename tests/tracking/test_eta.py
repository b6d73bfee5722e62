import datetime as dt

import pytest

from tests.tracking.conftest import eta_refresh, local
from tracking.models import DeliveryException, LatestPosition, StopEta
from tracking.selectors.itinerary import next_stop
from tracking.services.eta import customer_window

pytestmark = pytest.mark.django_db


def at_position(driver, lat, lng, when):
    LatestPosition.objects.update_or_create(
        driver=driver, defaults={"organization_id": driver.organization_id, "recorded_at": when, "lat": lat, "lng": lng}
    )


def test_etas_follow_the_travel_model_and_service_times(route, driver, hub):
    at_position(driver, hub.lat, hub.lng, local(10, 0))

    changed = eta_refresh(driver=driver, at=local(10, 0))

    # 1.11 km × 1.3 circuity at 27 km/h × 0.85 (10:00 traffic) ≈ 3.8 min per leg; 5 min service at A.
    etas = {c["order_id"]: dt.datetime.fromisoformat(c["eta"]) for c in changed}
    a, b = (etas[s.order_id] for s in route.stops.order_by("sequence"))
    assert local(10, 3) <= a <= local(10, 5)
    assert dt.timedelta(minutes=8) <= b - a <= dt.timedelta(minutes=10)
    assert [c["late"] for c in changed] == [False, False]
    assert StopEta.objects.count() == 2


def test_identical_estimates_are_not_published_twice(route, driver, hub):
    at_position(driver, hub.lat, hub.lng, local(10, 0))
    eta_refresh(driver=driver, at=local(10, 0))

    assert eta_refresh(driver=driver, at=local(10, 0)) == []


def test_a_driver_far_behind_is_late_and_raises_one_exception(route, driver, hub):
    at_position(driver, 60.45, 24.94, local(11, 30))  # ~30 km away, half an hour before the window ends

    changed = eta_refresh(driver=driver, at=local(11, 30))
    at_position(driver, 60.449, 24.94, local(11, 31))
    eta_refresh(driver=driver, at=local(11, 31))

    assert [c["late"] for c in changed] == [True, True]
    exceptions = DeliveryException.objects.filter(kind="late_risk")
    assert exceptions.count() == 2  # one per late stop, not one per position
    assert exceptions.first().suggested_actions[0] == "Call the customer to agree a new time"


def test_next_stop_is_the_first_not_done(route, driver):
    first, second = route.stops.order_by("sequence")
    first.status = "done"
    first.save()

    assert next_stop(driver) == second


def test_no_route_means_no_estimates(driver, hub):
    at_position(driver, hub.lat, hub.lng, local(10, 0))

    assert eta_refresh(driver=driver, at=local(10, 0)) == []


@pytest.mark.parametrize(
    ("minutes_away", "expected"),
    [(0, ("14:15", "14:25")), (30, ("14:10", "14:30")), (240, ("13:50", "14:50"))],
)
def test_customer_window_narrows_as_the_driver_approaches(minutes_away, expected):
    eta = dt.datetime(2026, 11, 26, 14, 20, tzinfo=dt.UTC)
    now = eta - dt.timedelta(minutes=minutes_away)

    start, end = customer_window(eta, now=now)

    assert (f"{start:%H:%M}", f"{end:%H:%M}") == expected
