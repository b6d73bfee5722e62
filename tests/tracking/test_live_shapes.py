"""The live screens' JSON keeps its shape: the tower snapshot, the tracking page, exceptions, pushes.

Each answer is compared with the hand-built dicts it replaced (`tests/reference_shapes.py`) on one
busy day, value types included (`exact`): 1 and 1.0, or True and 1, differ.
"""

# The route fixtures are shared with the socket tests by import, which ruff reads as redefinitions.
# ruff: noqa: F811

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tenancy import Actor
from dispatch.models import Driver, Route, Stop, Vehicle
from orders.models import Order
from tests import reference_shapes as reference
from tests.reference_shapes import exact
from tests.tracking.test_consumers import (  # noqa: F401
    HUB_LNG,
    connected,
    drain,
    live_route,
    make_order,
    memory_layer,
    now,
    orders,
    position,
)
from tracking.models import DeliveryException, LatestPosition
from tracking.payloads import DriverOnMap, customer_driver, driver_position_message, position_values
from tracking.selectors.tower import tower_snapshot
from tracking.serializers import CustomerDriverSerializer, DriverPositionPushSerializer, TowerSnapshotSerializer
from tracking.services.exceptions import exception_acknowledge, exception_assign, exception_raise, exception_resolve
from tracking.services.positions import position_receive

pytestmark = pytest.mark.django_db
FIX_EXTRAS = {"accuracy_m": 4.5, "speed_mps": 0.0, "heading_deg": 90.0, "battery_pct": 12.0}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_stop(route, reference_, sequence, *, status="planned", order_status="out_for_delivery", **order):
    made = make_order(route.plan.organization, route.plan.hub, reference_, 60.17 + sequence / 1000, **order)
    Order.objects.filter(pk=made.pk).update(status=order_status)
    arrival = now() + dt.timedelta(minutes=10 * sequence)
    return Stop.objects.create(
        route=route,
        order=made,
        sequence=sequence,
        status=status,
        planned_arrival=arrival,
        planned_departure=arrival + dt.timedelta(minutes=5),
    )


@pytest.fixture
def busy_day(organization, hub, live_route, dispatcher_user):
    """Stops planned, late, in progress, delivered, failed and dropped; a route without a driver;
    drivers on a route, off any route and long silent; exceptions open, assigned, acknowledged, resolved."""
    add_stop(live_route, "C", 3, status="done", order_status="delivered")
    add_stop(live_route, "D", 4, status="done", order_status="failed")
    add_stop(live_route, "E", 5, status="arrived", order_status="arrived")
    add_stop(live_route, "F", 6, status="dropped", order_status="validated")
    add_stop(live_route, "G", 7, window_end=now() - dt.timedelta(minutes=30))
    spare = Vehicle.objects.create(organization=organization, name="Van 2", type="bike", home_hub=hub)
    unmanned = Route.objects.create(plan=live_route.plan, vehicle=spare, color="#d9480f")
    add_stop(unmanned, "H", 1)
    fix = {"recorded_at": now(), "lat": 60.1749, "lng": HUB_LNG, "speed_mps": 7.5, "battery_pct": 55}
    position_receive(driver=live_route.driver, fixes=[fix])  # estimates every stop; G turns late
    idle, silent = (Driver.objects.create(organization=organization, name=n, home_hub=hub) for n in ("Aino", "Ville"))
    for driver, hours_ago in ((idle, 1), (silent, 13)):  # the tower shows drivers heard from in 12 hours
        recorded_at = now() - dt.timedelta(hours=hours_ago)
        LatestPosition.objects.create(
            driver=driver, organization=organization, recorded_at=recorded_at, lat=60.16, lng=24.9
        )
    actor = Actor(organization=organization, user=dispatcher_user)
    raised = [
        exception_raise(organization=organization, kind=kind, cause=kind, message=f"{kind} at {hub.name}", driver=idle)
        for kind in ("driver_idle", "no_position", "off_route")
    ]
    exception_assign(actor=actor, exception=raised[0], user=dispatcher_user, note="mine")
    exception_acknowledge(actor=actor, exception=raised[1], note="calling")
    exception_resolve(actor=actor, exception=raised[2], note="back on route")
    return live_route


def test_the_tower_snapshot_keeps_its_json(organization, busy_day, viewer_user):
    snapshot = signed_in(viewer_user).get("/tower/").context["snapshot"]

    assert exact(snapshot) == exact(reference.tower_snapshot(organization=organization))
    # The day covers every case the shape has.
    assert {s["state"] for r in snapshot["routes"] for s in r["stops"]} == {
        "planned",
        "late",
        "in_progress",
        "delivered",
        "failed",
    }
    assert [(r["driver_name"], r["done"], r["total"]) for r in snapshot["routes"]] == [
        ("Mikko Nieminen", 2, 6),
        (None, 0, 1),
    ]
    assert [(d["driver_name"], d["route_id"]) for d in snapshot["drivers"]] == [
        ("Mikko Nieminen", busy_day.pk),
        ("Aino", None),
    ]
    assert sorted((e["kind"], e["status"], e["assigned_to"]) for e in snapshot["exceptions"]) == [
        ("driver_idle", "open", "acme-dispatcher"),
        ("late_risk", "open", None),
        ("no_position", "acknowledged", None),
    ]


def test_the_tracking_page_keeps_its_json(organization, hub, busy_day, client):
    elsewhere = make_order(organization, hub, "I", 60.17)  # on no route
    order_list = list(Order.objects.filter(organization=organization).order_by("pk"))

    pages = [client.get(f"/t/{order.tracking_token}").context["live"] for order in order_list]

    assert [exact(page) for page in pages] == [exact(reference.tracking_snapshot(order)) for order in order_list]
    assert [(p["status"], bool(p["eta_window_start"]), p["driver"] is not None) for p in pages] == [
        ("out_for_delivery", True, True),  # A: the driver heads here
        ("out_for_delivery", True, False),
        ("delivered", False, False),
        ("failed", False, False),
        ("arrived", True, False),
        ("validated", False, False),  # its stop was dropped
        ("out_for_delivery", True, False),
        ("out_for_delivery", False, False),  # on the route without a driver: nobody estimates it
        ("out_for_delivery", False, False),
    ]
    assert order_list[-1] == elsewhere


def test_exception_actions_answer_the_exception_as_the_tower_shows_it(organization, busy_day, dispatcher_client):
    late = DeliveryException.objects.get(kind="late_risk")

    acknowledged = dispatcher_client.post(f"/api/exceptions/{late.pk}/acknowledge", {"note": "calling"})
    assigned = dispatcher_client.post(f"/api/exceptions/{late.pk}/assign", {})

    late.refresh_from_db()
    assert exact(assigned.json()) == exact(reference.exception_payload(late))
    assert (acknowledged.json()["status"], assigned.json()["assigned_to"]) == ("acknowledged", "acme-dispatcher")


@pytest.mark.parametrize("heading", [True, False], ids=["heading-to-a-stop", "no-route"])
@pytest.mark.parametrize("extras", [{}, FIX_EXTRAS], ids=["lat-lng-only", "every-field"])
def test_position_pushes_are_built_in_the_serializers_shape(heading, extras):
    """Pushes use dict builders for speed (tracking/payloads.py); their shape is the serializers'."""
    driver = Driver(pk=7, name="Mikko Nieminen", home_hub_id=3)
    fix = LatestPosition(driver=driver, recorded_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC), lat=60.2, lng=25.0)
    for name, value in extras.items():
        setattr(fix, name, value)
    stop = Stop(pk=11, route_id=5, order_id=13) if heading else None
    ids = {"route_id": 5, "next_stop_id": 11, "next_order_id": 13} if heading else {}
    on_map = DriverOnMap(driver, fix, hub_id=3, **ids)

    values = position_values(fix)
    staff = driver_position_message(driver, values, hub_id=3, stop=stop)
    customer = customer_driver(driver, values)

    assert exact(staff) == exact(DriverPositionPushSerializer(on_map).data)
    assert exact(customer) == exact(CustomerDriverSerializer(on_map).data)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_pushes_agree_with_the_snapshot_a_reconnect_sends(
    memory_layer, organization, live_route, orders, driver_user, dispatcher_user
):
    """A tower that reconnects draws from its snapshot what the pushes had drawn."""
    await database_sync_to_async(Order.objects.update)(window_end=now() + dt.timedelta(minutes=20))
    tower, _ = await connected("/ws/tower/", dispatcher_user)
    phone, _ = await connected("/ws/driver/", driver_user)

    await phone.send_json_to(position(lat=60.45, speed_mps=9.0, battery_pct=40))  # far away and late
    await phone.receive_json_from(timeout=5)
    pushed = await drain(tower, quiet_s=0.5)
    await tower.disconnect()
    tower, snapshot = await connected("/ws/tower/", dispatcher_user)

    moved = next(m for m in pushed if m["type"] == "driver.position")
    assert exact(snapshot["drivers"]) == exact(
        [{k: v for k, v in moved.items() if k not in ("next_stop_id", "next_order_id")}]
    )
    raised = {m["exception"]["id"]: m["exception"] for m in pushed if m["type"] == "exception.raised"}
    assert exact(raised) == exact({e["id"]: e for e in snapshot["exceptions"]})
    assert len(raised) == 3  # late at A and B, off the way to A
    kpis = next(m for m in pushed if m["type"] == "kpis")
    assert exact(kpis) == exact({"type": "kpis", "date": snapshot["date"], "kpis": snapshot["kpis"]})
    assert exact(snapshot) == exact(await database_sync_to_async(reference.tower_snapshot)(organization=organization))
    await tower.disconnect()
    await phone.disconnect()


def test_the_tower_snapshot_reads_in_the_same_statements_however_many_routes(organization, hub, busy_day):
    """Serializing reads only what the selector fetched: more routes, stops or drivers cost no statement."""

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            TowerSnapshotSerializer(tower_snapshot(organization=organization)).data  # noqa: B018
        return len(queries)

    before = statements()
    for n in range(3):
        driver = Driver.objects.create(organization=organization, name=f"Extra {n}", home_hub=hub)
        vehicle = Vehicle.objects.create(organization=organization, name=f"Extra van {n}", home_hub=hub)
        extra = Route.objects.create(plan=busy_day.plan, vehicle=vehicle, driver=driver)
        add_stop(extra, f"X{n}", 1)
        position_receive(driver=driver, fixes=[{"recorded_at": now(), "lat": 60.17, "lng": HUB_LNG}])

    assert statements() == before
