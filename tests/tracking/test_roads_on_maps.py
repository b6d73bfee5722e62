"""With road data on (WAYPOINT_TRAVEL=osrm): the tower's and the tracking page's lines follow the
streets, and ETAs ride road times under the hourly traffic profile."""

import datetime as dt

import pytest

from dispatch.models import Plan, PlanStatus, Route, Stop, Vehicle
from dispatch.network.travel import travel_provider
from routing import traffic_multiplier
from tests.tracking.conftest import DAY, local, make_order
from tracking.models import LatestPosition
from tracking.selectors.tower import tower_snapshot
from tracking.selectors.tracking_page import tracking_snapshot
from tracking.serializers import TowerSnapshotSerializer, TrackingSnapshotSerializer
from tracking.services.eta import estimate

pytestmark = pytest.mark.django_db

# Korkeavuorenkatu and Uudenmaankatu, inside the demo extract; the hub is on Kaivokatu.
STOPS = [(60.167497, 24.945683), (60.164696, 24.941425)]


@pytest.fixture
def on_roads(settings, helsinki_roads):
    settings.WAYPOINT_TRAVEL = "osrm"
    settings.WAYPOINT_OSRM_DATA = helsinki_roads
    return travel_provider()


@pytest.fixture
def street_route(organization, hub, driver):
    vehicle = Vehicle.objects.create(organization=organization, name="Van 1", type="van", home_hub=hub)
    plan = Plan.objects.create(organization=organization, hub=hub, date=DAY, status=PlanStatus.DISPATCHED)
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver, start_time=local(8, 30), end_time=local(11))
    for sequence, (lat, lng) in enumerate(STOPS, start=1):
        Stop.objects.create(
            route=route,
            order=make_order(organization, hub, f"R{sequence}", lat, lng),
            sequence=sequence,
            planned_arrival=local(10, 10 * sequence),
            planned_departure=local(10, 10 * sequence + 5),
        )
    return route


def _tower_path(organization):
    return TowerSnapshotSerializer(tower_snapshot(organization=organization, day=DAY)).data["routes"][0]["path"]


def test_the_tower_draws_the_route_along_the_streets(on_roads, organization, hub, street_route):
    path = _tower_path(organization)

    assert len(path) > 20
    assert path[0] == path[-1] == [hub.lat, hub.lng]


def test_without_road_data_the_tower_draws_straight_lines(organization, hub, street_route):
    hub_point = [hub.lat, hub.lng]

    assert _tower_path(organization) == [hub_point, *(list(p) for p in STOPS), hub_point]


def test_the_customer_sees_the_drivers_way_along_the_streets(on_roads, organization, hub, driver, street_route):
    LatestPosition.objects.create(
        driver=driver, organization=organization, recorded_at=local(10, 0), lat=hub.lat, lng=hub.lng
    )
    order = street_route.stops.get(sequence=1).order

    snapshot = TrackingSnapshotSerializer(tracking_snapshot(order)).data

    assert snapshot["driver"] is not None
    assert len(snapshot["path"]) > 10
    assert snapshot["path"][0] == [hub.lat, hub.lng]
    assert snapshot["path"][-1] == [order.lat, order.lng]
    # The next customer does not see the driver, nor the way.
    assert TrackingSnapshotSerializer(tracking_snapshot(street_route.stops.get(sequence=2).order)).data["path"] == []


def test_etas_ride_road_times_under_the_hourly_profile(on_roads, hub, street_route):
    stops = list(street_route.stops.select_related("order").order_by("sequence"))
    position = (hub.lat, hub.lng)

    arrivals = estimate(street_route, stops, position, local(10, 0))

    # The road time is free flow; at 10:00 in Helsinki the hourly profile slows it (routing.CITY_TRAFFIC).
    first_leg = on_roads.legs([position, STOPS[0]], "van")[0]
    assert traffic_multiplier(10 * 3600) < 1
    assert arrivals[0] - local(10, 0) == dt.timedelta(seconds=round(first_leg / traffic_multiplier(10 * 3600)))
