"""The live sockets: driver positions fan out to the tower, the board and the right tracking page only."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from common import clock
from config.asgi import application
from dispatch.models import Plan, PlanStatus, Route, Stop, Vehicle
from orders.models import Order
from tests.layers import REDIS_CORE, channel_layer_of
from tracking.models import DeliveryException, DriverPosition
from tracking.selectors.tower import organization_today

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
HUB_LNG = 24.9384


def now() -> dt.datetime:
    return clock.now().replace(microsecond=0)


@pytest.fixture(params=["memory", "redis"])
def channel_layer(request, settings):
    """Both modes: the embedded in-memory layer and channels-redis (skipped without Redis)."""
    redis_url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    with channel_layer_of(settings, request.param, redis_url=redis_url, redis_backend=REDIS_CORE) as mode:
        yield mode


@pytest.fixture
def memory_layer(settings):
    with channel_layer_of(settings, "memory"):
        yield


def make_order(organization, hub, reference, lat, *, window_end=None):
    start = now() - dt.timedelta(hours=1)
    end = window_end or now() + dt.timedelta(hours=3)
    return Order.objects.create(
        organization=organization,
        hub=hub,
        merchant_reference=reference,
        customer_name=f"Customer {reference}",
        address_text=f"{reference} street",
        lat=lat,
        lng=HUB_LNG,
        status="out_for_delivery",
        time_windows=[{"start": start.isoformat(), "end": end.isoformat()}],
        window_start=start,
        window_end=end,
        delivery_date=organization_today(organization),
        service_minutes=5,
    )


@pytest.fixture
def live_route(organization, hub, driver):
    """Today's dispatched route of `driver`: stop A (1.1 km north of the hub), then stop B (2.2 km)."""
    vehicle = Vehicle.objects.create(organization=organization, name="Van 1", type="van", home_hub=hub)
    plan = Plan.objects.create(
        organization=organization, hub=hub, date=organization_today(organization), status=PlanStatus.DISPATCHED
    )
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver)
    for sequence, (reference, lat) in enumerate([("A", 60.1799), ("B", 60.1899)], start=1):
        order = make_order(organization, hub, reference, lat)
        arrival = now() + dt.timedelta(minutes=10 * sequence)
        Stop.objects.create(
            route=route,
            order=order,
            sequence=sequence,
            planned_arrival=arrival,
            planned_departure=arrival + dt.timedelta(minutes=5),
        )
    return route


@pytest.fixture
def orders(live_route):
    return {o.merchant_reference: o for o in Order.objects.filter(stops__route=live_route)}


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def communicator(path: str, user=None) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={session_cookie(user)}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def connected(path: str, user=None) -> tuple[WebsocketCommunicator, dict | None]:
    comm = await database_sync_to_async(communicator)(path, user)
    accepted, _ = await comm.connect(timeout=5)
    assert accepted, path
    snapshot = None if path == "/ws/driver/" else await comm.receive_json_from(timeout=5)
    return comm, snapshot


async def drain(comm: WebsocketCommunicator, quiet_s: float = 0.3) -> list[dict]:
    """Everything the socket received until it has been quiet for `quiet_s`, batches unpacked."""
    received = []
    for message in await drain_messages(comm, quiet_s):
        received.extend(message["events"] if message["type"] == "batch" else [message])
    return received


async def drain_messages(comm: WebsocketCommunicator, quiet_s: float = 0.3) -> list[dict]:
    """The socket's messages as sent (a batch is one message) until it has been quiet for `quiet_s`."""
    received = []
    while not await comm.receive_nothing(timeout=quiet_s):
        received.append(await comm.receive_json_from(timeout=2))
    return received


def position(lat=60.1749, lng=HUB_LNG, seconds_ago=0, **extra) -> dict:
    recorded = now() - dt.timedelta(seconds=seconds_ago)
    return {"type": "position", "recorded_at": recorded.isoformat(), "lat": lat, "lng": lng, **extra}


async def test_a_position_reaches_the_tower_the_board_and_only_the_next_stops_page(
    channel_layer, live_route, orders, driver_user, dispatcher_user, hub
):
    """Tower and board get the driver; order A's page (next stop) gets the driver; order B's never does."""
    tower, _ = await connected("/ws/tower/", dispatcher_user)
    board, _ = await connected(f"/ws/hubs/{hub.pk}/board/", dispatcher_user)
    page_a, snapshot_a = await connected(f"/ws/track/{orders['A'].tracking_token}/")
    page_b, _ = await connected(f"/ws/track/{orders['B'].tracking_token}/")
    phone, _ = await connected("/ws/driver/", driver_user)

    await phone.send_json_to(position(speed_mps=8.0, battery_pct=80, ref="m1"))
    ack = await phone.receive_json_from(timeout=5)
    tower_messages, board_messages = await drain(tower), await drain(board)
    a_messages, b_messages = await drain(page_a), await drain(page_b)

    assert ack == {"type": "ack", "ref": "m1", "accepted": 1, "duplicates": 0, "rejected": []}
    moved = next(m for m in tower_messages if m["type"] == "driver.position")
    assert (moved["driver_id"], moved["lat"], moved["speed_mps"], moved["battery_pct"]) == (
        live_route.driver_id,
        60.1749,
        8.0,
        80,
    )
    assert moved["next_order_id"] == orders["A"].pk
    assert any(m["type"] == "driver.position" for m in board_messages)
    tower_etas = next(m for m in tower_messages if m["type"] == "eta.changed")["etas"]
    assert {e["order_id"] for e in tower_etas} == {orders["A"].pk, orders["B"].pk}
    assert all("tracking_token" not in e for e in tower_etas)
    assert snapshot_a["driver"] is None  # nobody had sent a position yet
    a_by_type = {m["type"]: m for m in a_messages}  # sent concurrently: order between types is free
    assert sorted(m["type"] for m in a_messages) == ["driver.position", "eta.changed"]
    customer_fields = {"type", "driver_first_name", "lat", "lng", "heading_deg", "recorded_at"}
    assert set(a_by_type["driver.position"]) == customer_fields
    assert a_by_type["driver.position"]["driver_first_name"] == "Mikko"
    assert set(a_by_type["eta.changed"]) == {"type", "eta_window_start", "eta_window_end"}
    assert [m["type"] for m in b_messages] == ["eta.changed"]  # its own window, never the driver
    for comm in (tower, board, page_a, page_b, phone):
        await comm.disconnect()


async def test_the_page_of_a_passed_stop_hides_the_driver_and_gets_no_more_positions(
    memory_layer, live_route, orders, driver_user
):
    """Once the driver heads to B, A's page is told to hide the driver and receives nothing more of it."""
    phone, _ = await connected("/ws/driver/", driver_user)
    await phone.send_json_to(position(seconds_ago=30))
    await phone.receive_json_from(timeout=5)
    page_a, snapshot_a = await connected(f"/ws/track/{orders['A'].tracking_token}/")
    page_b, snapshot_b = await connected(f"/ws/track/{orders['B'].tracking_token}/")
    await drain(page_a), await drain(page_b)  # the first fix's pushes, sent within a batch interval

    await database_sync_to_async(Stop.objects.filter(order=orders["A"]).update)(status="done")
    await phone.send_json_to(position(lat=60.1849))
    await phone.receive_json_from(timeout=5)
    await phone.send_json_to(position(lat=60.1859, seconds_ago=-1))
    await phone.receive_json_from(timeout=5)
    a_messages, b_messages = await drain(page_a), await drain(page_b)

    assert snapshot_a["driver"]["driver_first_name"] == "Mikko"
    assert snapshot_b["driver"] is None
    assert snapshot_b["eta_window_start"] is not None
    assert [m["type"] for m in a_messages] == ["driver.hidden"]
    assert [m["lat"] for m in b_messages if m["type"] == "driver.position"] == [60.1849, 60.1859]
    for comm in (phone, page_a, page_b):
        await comm.disconnect()


async def test_rejected_and_malformed_positions_are_reported_in_the_ack(memory_layer, live_route, driver_user):
    phone, _ = await connected("/ws/driver/", driver_user)

    await phone.send_json_to(
        {
            "type": "positions",
            "ref": 7,
            "positions": [
                position(seconds_ago=20),
                position(lat=91),
                {"lat": "north"},
                position(seconds_ago=10, speed_mps=120),
            ],
        }
    )
    ack = await phone.receive_json_from(timeout=5)
    await phone.send_json_to({"type": "teleport"})
    unknown = await phone.receive_json_from(timeout=5)

    assert ack["accepted"] == 1
    assert [(r["index"], r["reason"]) for r in ack["rejected"]] == [
        (1, "invalid_coordinates"),
        (2, "malformed"),
        (3, "impossible_speed"),
    ]
    assert ack["rejected"][1]["errors"] == {
        "recorded_at": ["This field is required."],
        "lat": ["A valid number is required."],
        "lng": ["This field is required."],
    }
    assert unknown["code"] == "unknown_type"
    assert await database_sync_to_async(DriverPosition.objects.count)() == 1
    await phone.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "driver"])
async def test_the_tower_refuses_anyone_but_office_staff(memory_layer, who, driver_user):
    comm = await database_sync_to_async(communicator)("/ws/tower/", driver_user if who == "driver" else None)

    accepted, code = await comm.connect(timeout=5)

    assert (accepted, code) == (False, 4401 if who == "anonymous" else 4403)


async def test_another_organizations_tower_never_receives_another_organizations_positions(
    memory_layer, live_route, driver_user, other_organization
):
    from accounts.services import user_create

    foreign = await database_sync_to_async(user_create)(
        organization=other_organization, username="other-admin", password="pw-12345!", role="admin"
    )
    tower, snapshot = await connected("/ws/tower/", foreign)
    phone, _ = await connected("/ws/driver/", driver_user)

    await phone.send_json_to(position())
    await phone.receive_json_from(timeout=5)

    assert snapshot["routes"] == []
    assert snapshot["drivers"] == []
    assert await drain(tower) == []
    await tower.disconnect()
    await phone.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "dispatcher", "driver_without_profile"])
async def test_the_driver_socket_needs_a_signed_in_driver_with_a_profile(
    memory_layer, who, dispatcher_user, driver_user
):
    user = {"anonymous": None, "dispatcher": dispatcher_user, "driver_without_profile": driver_user}[who]
    comm = await database_sync_to_async(communicator)("/ws/driver/", user)

    accepted, code = await comm.connect(timeout=5)

    assert (accepted, code) == (False, 4401 if who == "anonymous" else 4403)


async def test_an_unknown_tracking_token_is_refused(memory_layer, live_route):
    comm = await database_sync_to_async(communicator)("/ws/track/not-a-real-token/")

    accepted, code = await comm.connect(timeout=5)

    assert (accepted, code) == (False, 4404)


async def test_the_tower_snapshot_has_routes_drivers_kpis_and_open_exceptions(
    memory_layer, live_route, orders, driver_user, viewer_user
):
    phone, _ = await connected("/ws/driver/", driver_user)
    await phone.send_json_to(position())
    await phone.receive_json_from(timeout=5)

    tower, snapshot = await connected("/ws/tower/", viewer_user)

    assert snapshot["type"] == "snapshot"
    [route] = snapshot["routes"]
    assert (route["id"], route["done"], route["total"], route["driver_name"]) == (live_route.pk, 0, 2, "Mikko Nieminen")
    assert [s["reference"] for s in route["stops"]] == ["A", "B"]
    assert all(s["eta"] for s in route["stops"])
    assert [(d["driver_id"], d["lat"]) for d in snapshot["drivers"]] == [(live_route.driver_id, 60.1749)]
    assert snapshot["kpis"]["all"] == {"delivered": 0, "failed": 0, "pending": 2, "on_time_pct": None, "late_risk": 0}
    assert snapshot["exceptions"] == []
    await tower.disconnect()
    await phone.disconnect()


async def test_a_late_driver_raises_an_exception_that_reaches_the_tower(
    memory_layer, live_route, orders, driver_user, dispatcher_user
):
    await database_sync_to_async(Order.objects.update)(window_end=now() + dt.timedelta(minutes=20))
    tower, _ = await connected("/ws/tower/", dispatcher_user)
    phone, _ = await connected("/ws/driver/", driver_user)

    await phone.send_json_to(position(lat=60.45))  # ~30 km away with 20 minutes left
    await phone.receive_json_from(timeout=5)
    messages = await drain(tower, quiet_s=0.5)

    raised = [m["exception"] for m in messages if m["type"] == "exception.raised"]
    late = sorted(e["order_id"] for e in raised if e["kind"] == "late_risk")
    assert late == sorted([orders["A"].pk, orders["B"].pk])
    assert [e["kind"] for e in raised if e["kind"] != "late_risk"] == ["off_route"]  # 30 km off the way to A
    kpis = next(m for m in messages if m["type"] == "kpis")["kpis"]
    assert kpis["all"]["late_risk"] == 2
    assert await database_sync_to_async(DeliveryException.objects.filter(kind="late_risk").count)() == 2
    await tower.disconnect()
    await phone.disconnect()


async def test_the_rest_batch_endpoint_publishes_like_the_socket(
    memory_layer, live_route, orders, driver_user, dispatcher_user
):
    from rest_framework.test import APIClient

    tower, _ = await connected("/ws/tower/", dispatcher_user)
    page_a, _ = await connected(f"/ws/track/{orders['A'].tracking_token}/")

    def post():
        client = APIClient()
        client.force_authenticate(driver_user)
        fixes = [{k: v for k, v in position(seconds_ago=s).items() if k != "type"} for s in (20, 10)]
        return client.post("/api/driver/positions", {"positions": fixes}, format="json")

    response = await database_sync_to_async(post)()
    tower_positions = [m for m in await drain(tower) if m["type"] == "driver.position"]
    page_positions = [m for m in await drain(page_a) if m["type"] == "driver.position"]

    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert len(tower_positions) == 1  # the newest fix of the batch moves the marker
    assert len(page_positions) == 1
    await tower.disconnect()
    await page_a.disconnect()


async def test_an_order_status_change_reaches_its_page_and_the_tower(memory_layer, orders, dispatcher_user):
    """`on_order_status_changed` (subscribed to the order_<status> events) updates page and tower live."""
    from tracking.handlers import on_order_status_changed

    tower, _ = await connected("/ws/tower/", dispatcher_user)
    page_a, _ = await connected(f"/ws/track/{orders['A'].tracking_token}/")
    page_b, _ = await connected(f"/ws/track/{orders['B'].tracking_token}/")

    await database_sync_to_async(Order.objects.filter(pk=orders["A"].pk).update)(status="delivered")
    await database_sync_to_async(on_order_status_changed)({"order_id": orders["A"].pk})
    page_messages, tower_messages = await drain(page_a), await drain(tower)

    assert sorted(m["type"] for m in page_messages) == ["driver.hidden", "order.status"]
    assert next(m for m in page_messages if m["type"] == "order.status") == {
        "type": "order.status",
        "status": "delivered",
    }
    status = next(m for m in tower_messages if m["type"] == "order.status")
    assert (status["order_id"], status["status"]) == (orders["A"].pk, "delivered")
    assert next(m for m in tower_messages if m["type"] == "kpis")["kpis"]["all"]["delivered"] == 1
    assert await drain(page_b) == []
    for comm in (tower, page_a, page_b):
        await comm.disconnect()


async def test_a_delivered_customers_page_gets_no_more_positions_even_before_the_stop_closes(
    memory_layer, live_route, orders, driver_user
):
    phone, _ = await connected("/ws/driver/", driver_user)
    await phone.send_json_to(position(seconds_ago=10))
    await phone.receive_json_from(timeout=5)
    page_a, _ = await connected(f"/ws/track/{orders['A'].tracking_token}/")
    await drain(page_a)  # the first fix's pushes, sent within a batch interval

    await database_sync_to_async(Order.objects.filter(pk=orders["A"].pk).update)(status="delivered")
    await phone.send_json_to(position(lat=60.1809))
    await phone.receive_json_from(timeout=5)

    assert [m["type"] for m in await drain(page_a)] == ["driver.hidden"]
    await phone.disconnect()
    await page_a.disconnect()


async def test_positions_within_a_batch_interval_reach_the_tower_as_one_message(
    memory_layer, live_route, driver_user, dispatcher_user, monkeypatch
):
    """The server coalesces pushes per group: one WebSocket message for a tenth of a second's fixes."""
    from common import realtime

    monkeypatch.setattr(realtime, "BATCH_INTERVAL_S", 1.0)  # wide enough for two fixes on any machine
    tower, _ = await connected("/ws/tower/", dispatcher_user)
    phone, _ = await connected("/ws/driver/", driver_user)

    for lat, seconds_ago in ((60.1749, 2), (60.1759, 1)):
        await phone.send_json_to(position(lat=lat, seconds_ago=seconds_ago))
        await phone.receive_json_from(timeout=5)
    messages = await drain_messages(tower, quiet_s=1.5)

    batches = [m for m in messages if m["type"] == "batch"]
    assert len(batches) == 1
    assert not any(m["type"] in ("driver.position", "eta.changed") for m in messages)  # all inside the batch
    moves = [e for e in batches[0]["events"] if e["type"] == "driver.position"]
    assert [m["lat"] for m in moves] == [60.1749, 60.1759]  # in the order they were recorded
    await tower.disconnect()
    await phone.disconnect()
