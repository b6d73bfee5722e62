"""Choosing the travel model by settings, `manage.py build_roads`, and planning on real roads."""

import io
import logging

import pytest
from django.core.management import call_command

from dispatch.network.travel import road_line, travel_provider
from dispatch.planning.services.plans import plan_problem
from dispatch.slots.route_fit import _day_provider
from routing import GreatCircleProvider, OsrmProvider, OsrmTableProvider, ReusingProvider
from tests.factories.fleet import DriverFactory, OrderFactory, PlanFactory, VehicleFactory

# Streets of central Helsinki, inside the demo extract (lat, lng).
STREETS = [(60.167497, 24.945683), (60.164696, 24.941425), (60.1760, 24.950141), (60.164199, 24.936660)]


@pytest.fixture
def on_roads(settings, helsinki_roads):
    settings.WAYPOINT_TRAVEL = "osrm"
    settings.WAYPOINT_OSRM_DATA = helsinki_roads
    return travel_provider()


def test_the_great_circle_is_the_default():
    assert type(travel_provider()) is GreatCircleProvider
    assert road_line(STREETS[:2], vehicle_type="van") == [list(p) for p in STREETS[:2]]


def test_osrm_with_built_data_is_embedded_and_loaded_once(on_roads):
    assert isinstance(on_roads, OsrmProvider)
    assert sorted(on_roads.datasets) == ["bicycle", "car", "foot"]
    assert travel_provider() is on_roads


def test_osrm_without_data_falls_back_to_the_great_circle(settings, tmp_path, caplog):
    settings.WAYPOINT_TRAVEL = "osrm"
    settings.WAYPOINT_OSRM_DATA = tmp_path

    with caplog.at_level(logging.WARNING, logger="dispatch.network.travel"):
        provider = travel_provider()

    assert type(provider) is GreatCircleProvider
    assert "build_roads" in caplog.text


def test_an_osrm_server_url_is_used_over_http(settings):
    settings.WAYPOINT_TRAVEL = "osrm"
    settings.WAYPOINT_OSRM_URL = "http://127.0.0.1:5000"

    provider = travel_provider()

    assert isinstance(provider, OsrmTableProvider)
    assert provider.base_url == "http://127.0.0.1:5000"


def test_build_roads_builds_each_profile_once(helsinki_extract, tmp_path):
    first, again = io.StringIO(), io.StringIO()

    # Foot is left out only to save its ten seconds of contraction here (helsinki_roads builds it).
    call_command("build_roads", pbf=helsinki_extract, out=tmp_path, profile=["car", "bicycle"], stdout=first)
    call_command("build_roads", pbf=helsinki_extract, out=tmp_path, profile=["car", "bicycle"], stdout=again)

    assert [line.split(":")[0] for line in first.getvalue().splitlines()[:2]] == ["car", "bicycle"]
    assert first.getvalue().count("built in") == 2
    assert again.getvalue().count("up to date") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bicycle", "car"]


def test_build_roads_helsinki_takes_the_basemaps_extract(helsinki_extract, tmp_path, settings):
    settings.WAYPOINT_OSRM_DATA = tmp_path
    out = io.StringIO()

    call_command("build_roads", helsinki=True, profile=["car"], stdout=out)

    assert f"from {helsinki_extract.name} in {tmp_path}" in out.getvalue()
    assert (tmp_path / "car" / "helsinki.osrm.hsgr").exists()


@pytest.mark.django_db
def test_plans_slots_and_live_insertions_share_the_road_provider(on_roads, hub):
    plan = PlanFactory(hub=hub)

    built, _kept = plan_problem(plan=plan)

    assert built.provider is on_roads
    assert _day_provider() is on_roads


@pytest.mark.django_db
def test_slots_reuse_great_circle_cells_by_default(hub):
    assert isinstance(_day_provider(), ReusingProvider)


@pytest.mark.django_db
def test_an_optimized_plan_drives_the_roads_and_draws_them(
    on_roads, dispatcher_client, hub, django_capture_on_commit_callbacks
):
    VehicleFactory(home_hub=hub, capacity_parcels=10)
    DriverFactory(home_hub=hub)
    for lat, lng in STREETS:
        OrderFactory(hub=hub, lat=lat, lng=lng)
    plan = PlanFactory(hub=hub)

    with django_capture_on_commit_callbacks(execute=True):
        dispatcher_client.post(f"/api/plans/{plan.pk}/optimize", {}, format="json")
    route = dispatcher_client.get(f"/api/plans/{plan.pk}").json()["routes"][0]

    stops = [(s["lat"], s["lng"]) for s in route["stops"]]
    places = [(hub.lat, hub.lng), *stops, (hub.lat, hub.lng)]
    _seconds, metres = on_roads.matrices(places, "van")
    assert route["distance_m"] == sum(int(metres[k, k + 1]) for k in range(len(places) - 1))
    # The board's line follows the streets: far more points than hub, stops and hub.
    assert len(route["path"]) > 10 * len(places)
    assert route["path"][0] == [hub.lat, hub.lng]
    assert route["path"][-1] == [hub.lat, hub.lng]
