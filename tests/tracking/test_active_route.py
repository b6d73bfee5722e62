"""A position moves only the driver's active route: today's at its hub, inside its time window."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dispatch.models import Driver, Hub, Plan, PlanStatus, Route, Stop, Vehicle
from tests.tracking.conftest import DAY, local, make_order
from tracking.models import DriverPosition, LatestPosition, StopEta
from tracking.selectors.itinerary import driver_itinerary
from tracking.selectors.tracking_page import tracking_snapshot
from tracking.services.positions import position_receive

pytestmark = pytest.mark.django_db
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def add_route(organization, hub, driver, day: dt.date, start: dt.datetime, end: dt.datetime, *, name: str):
    vehicle = Vehicle.objects.create(organization=organization, name=name, type="van", home_hub=hub)
    plan = Plan.objects.create(organization=organization, hub=hub, date=day, status=PlanStatus.DISPATCHED)
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver, start_time=start, end_time=end)
    order = make_order(organization, hub, f"{name}-1", hub.lat + 0.01, hub.lng)
    Stop.objects.create(route=route, order=order, sequence=1, planned_arrival=start, planned_departure=end)
    return route


def drive(driver, at: dt.datetime, lat=60.1749, lng=24.9384):
    return position_receive(driver=driver, fixes=[{"recorded_at": at, "lat": lat, "lng": lng}])


def test_todays_route_takes_the_positions_not_tomorrows(organization, hub, driver, route, time_machine):
    # given: tomorrow's plan is dispatched too, and would win as "the newest plan"
    tomorrow = add_route(
        organization, hub, driver, DAY + dt.timedelta(days=1), local(8, 30), local(11), name="Tomorrow"
    )
    tomorrow_stop = tomorrow.stops.get()
    time_machine.move_to(local(9), tick=False)

    # when
    drive(driver, local(9))

    # then
    assert driver_itinerary(driver).route == route
    assert set(StopEta.objects.values_list("stop__route", flat=True)) == {route.pk}
    assert tracking_snapshot(tomorrow_stop.order).driver is None
    assert tracking_snapshot(route.stops.get(sequence=1).order).driver is not None


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param((7, 29), id="more than an hour before the start"),
        pytest.param((14, 1), id="more than three hours after the end"),
    ],
)
def test_outside_its_window_a_position_is_stored_and_moves_nothing(driver, route, time_machine, moment):
    at = local(*moment)
    time_machine.move_to(at, tick=False)

    result = drive(driver, at)

    assert len(result.accepted) == 1
    assert DriverPosition.objects.filter(driver=driver).count() == 1
    assert LatestPosition.objects.get(driver=driver).recorded_at == at
    assert driver_itinerary(driver) is None
    assert StopEta.objects.count() == 0
    assert tracking_snapshot(route.stops.get(sequence=1).order).driver is None


@pytest.mark.parametrize(
    "moment",
    [pytest.param((7, 30), id="an hour before the start"), pytest.param((14, 0), id="three hours after the end")],
)
def test_the_window_includes_its_grace_periods(driver, route, time_machine, moment):
    time_machine.move_to(local(*moment), tick=False)

    assert driver_itinerary(driver).route == route


@pytest.fixture
def pacific(organization):
    return Hub.objects.create(
        organization=organization,
        code="lax-1",
        name="Los Angeles",
        address="1 Main St",
        lat=34.05,
        lng=-118.25,
        timezone="America/Los_Angeles",
        service_radius_km=10,
    )


def test_today_is_the_hubs_day_not_utcs_or_the_organizations(organization, pacific, driver_user, time_machine):
    """At 23:45 in Los Angeles it is already tomorrow in UTC and in Helsinki (the organization's)."""
    driver = Driver.objects.create(organization=organization, user=driver_user, name="Dana", home_hub=pacific)
    evening = dt.date(2026, 11, 29)
    now = dt.datetime.combine(evening, dt.time(23, 45), tzinfo=LOS_ANGELES)
    late_route = add_route(
        organization,
        pacific,
        driver,
        evening,
        now - dt.timedelta(hours=3),
        now - dt.timedelta(minutes=30),
        name="Evening",
    )
    # Tomorrow's first route starts within the hour, so only the date tells it apart.
    add_route(
        organization,
        pacific,
        driver,
        evening + dt.timedelta(days=1),
        now + dt.timedelta(minutes=30),
        now + dt.timedelta(hours=4),
        name="Early",
    )
    time_machine.move_to(now, tick=False)

    assert driver_itinerary(driver).route == late_route

    time_machine.move_to(now + dt.timedelta(minutes=20), tick=False)  # 00:05: tomorrow's day at the hub
    assert driver_itinerary(driver).route.plan.date == evening + dt.timedelta(days=1)


def test_the_driver_app_lists_the_routes_of_today_at_the_drivers_hub(
    organization, pacific, driver_user, driver_client, time_machine
):
    driver = Driver.objects.create(organization=organization, user=driver_user, name="Dana", home_hub=pacific)
    evening = dt.date(2026, 11, 29)
    now = dt.datetime.combine(evening, dt.time(23, 45), tzinfo=LOS_ANGELES)
    route = add_route(organization, pacific, driver, evening, now - dt.timedelta(hours=3), now, name="Evening")
    time_machine.move_to(now, tick=False)

    answer = driver_client.get("/api/driver/routes").json()

    assert (answer["date"], [r["id"] for r in answer["routes"]]) == ("2026-11-29", [route.pk])
