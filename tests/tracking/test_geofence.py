"""Arrival and departure without a tap: a driver staying at a stop is marked arrived from positions."""

import datetime as dt
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.tenancy import Actor
from common import clock, realtime
from common.realtime import tower_group, tracking_group
from dispatch.execution.services.stops import stop_arrive, stop_complete
from dispatch.models import ArrivalSource, Stop, StopEvent, StopStatus
from orders.models import Order, OrderEvent
from tracking.models import DriverPosition
from tracking.services.geofence import Fix, Place, arrival, departure
from tracking.services.positions import position_receive

pytestmark = pytest.mark.django_db
STOP_A = (60.1799, 24.9384)  # the conftest route's first stop, 1.1 km north of the hub
M_PER_DEG_LAT = 111_195.0
T0 = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)


def north(metres: float, of: tuple[float, float] = STOP_A) -> tuple[float, float]:
    return of[0] + metres / M_PER_DEG_LAT, of[1]


def fixes(*points: tuple[int, float], accuracy_m: float | None = 8.0) -> list[Fix]:
    """(seconds after T0, metres north of stop A) pairs as fixes."""
    return [Fix(T0 + dt.timedelta(seconds=s), *north(m), accuracy_m=accuracy_m) for s, m in points]


PLACE_A = Place(stop_id=1, lat=STOP_A[0], lng=STOP_A[1])


# --- The decision alone -------------------------------------------------------------------------


def test_a_stay_of_the_dwell_arrives_at_its_first_fix():
    stay = fixes((0, 400), (10, 30), (40, 12), (70, -20))

    assert arrival(stay, [PLACE_A], radius_m=50, dwell_s=60) == (PLACE_A, stay[1])


def test_a_stay_shorter_than_the_dwell_does_not_arrive():
    assert arrival(fixes((0, 30), (30, 10), (59, 5)), [PLACE_A], radius_m=50, dwell_s=60) is None


def test_a_fix_outside_breaks_the_stay():
    assert arrival(fixes((0, 5), (30, 80), (60, 5), (90, 5)), [PLACE_A], radius_m=50, dwell_s=60) is None


def test_an_inaccurate_fix_neither_breaks_nor_makes_a_stay():
    stay = [*fixes((0, 5), (30, 5)), *fixes((45, 400), accuracy_m=250.0), *fixes((60, 5))]

    assert arrival(stay, [PLACE_A], radius_m=50, dwell_s=60) == (PLACE_A, stay[0])
    assert arrival(fixes((0, 5), (60, 5), (120, 5), accuracy_m=150.0), [PLACE_A], radius_m=50, dwell_s=60) is None


def test_the_next_stop_wins_among_stops_in_the_radius_else_the_nearest():
    near, next_one = Place(stop_id=2, lat=STOP_A[0], lng=STOP_A[1]), Place(3, *north(30))
    stay = fixes((0, 0), (60, 0))

    assert arrival(stay, [near, next_one], radius_m=50, dwell_s=60, preferred=3) == (next_one, stay[0])
    assert arrival(stay, [next_one, near], radius_m=50, dwell_s=60) == (near, stay[0])


def test_leaving_is_beyond_twice_the_radius_from_the_first_fix_out():
    track = fixes((0, 5), (30, 80), (40, 120), (50, 300))

    assert departure(track[:2], PLACE_A, radius_m=50) is None  # 80 m: between the radius and twice it
    assert departure(track, PLACE_A, radius_m=50) == track[2]
    assert departure(track, PLACE_A, radius_m=50, since=track[-1].at) is None  # nothing after the arrival
    assert departure(fixes((60, 300), accuracy_m=500.0), PLACE_A, radius_m=50) is None


# --- Through the positions path -------------------------------------------------------------------


@pytest.fixture
def stop_a(route):
    return Stop.objects.select_related("order").get(route=route, sequence=1)


@pytest.fixture
def published(monkeypatch):
    """(group, payload) of every realtime push sent after commit, batched or not."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(realtime, "publish_now", lambda group, payload: sent.append((group, payload)))
    monkeypatch.setattr(realtime, "_publish_many_now", sent.extend)
    monkeypatch.setattr(realtime, "_publish_in_order_now", sent.extend)
    return sent


def body(*points: tuple[int, float], end: dt.datetime, accuracy_m: float = 8.0) -> dict:
    """(seconds before `end`, metres north of stop A) pairs as the app's batch."""
    return {
        "positions": [
            {
                "recorded_at": (end - dt.timedelta(seconds=s)).isoformat(),
                "lat": north(m)[0],
                "lng": STOP_A[1],
                "accuracy_m": accuracy_m,
            }
            for s, m in points
        ]
    }


def post(client, payload: dict) -> dict:
    response = client.post("/api/driver/positions", payload, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def stand(client, end: dt.datetime, *, seconds: int = 180, step: int = 15, metres: float = 10) -> None:
    """The phone's fixes of a driver standing at stop A, one request per fix as it goes."""
    for s in range(seconds, -1, -step):
        post(client, body((s, metres), end=end))


def test_a_driver_standing_three_minutes_at_a_stop_is_marked_arrived(
    driver_client, stop_a, published, django_capture_on_commit_callbacks
):
    end = clock.now().replace(microsecond=0)

    with django_capture_on_commit_callbacks(execute=True):
        post(driver_client, body((240, 900), (200, 300), end=end))  # driving in
        stand(driver_client, end)

    stop_a.refresh_from_db()
    stop_a.order.refresh_from_db()
    assert (stop_a.status, stop_a.arrival_source) == (StopStatus.ARRIVED, ArrivalSource.GEOFENCE)
    assert stop_a.arrived_at == end - dt.timedelta(seconds=180)  # the first fix inside
    assert stop_a.order.status == "arrived"
    event = StopEvent.objects.get(stop=stop_a, kind="stop_arrived")
    assert (event.actor, event.from_status, event.details["source"]) == ("system", "planned", "geofence")
    assert event.details["device_at"] == stop_a.arrived_at.isoformat()
    history = list(OrderEvent.objects.filter(order=stop_a.order).order_by("at", "pk").values_list("kind", flat=True))
    assert history[-2:] == ["order_out_for_delivery", "order_arrived"]
    order_id, organization_id = stop_a.order_id, stop_a.order.organization_id
    assert (tracking_group(order_id), {"type": "order.status", "status": "arrived"}) in published
    tower_status = {"type": "order.status", "order_id": order_id, "hub_id": stop_a.order.hub_id, "status": "arrived"}
    assert (tower_group(organization_id), tower_status) in published


def test_passing_by_without_stopping_does_not_arrive(driver_client, stop_a):
    end = clock.now().replace(microsecond=0)

    # 10 m/s through the stop's radius: inside for 10 s
    post(driver_client, body(*[(60 - s, -300 + 10 * s) for s in range(0, 61, 5)], end=end))
    post(driver_client, body((0, 400), end=end + dt.timedelta(seconds=30)))

    stop_a.refresh_from_db()
    assert (stop_a.status, stop_a.arrived_at, stop_a.order.status) == (StopStatus.PLANNED, None, "dispatched")
    assert not StopEvent.objects.filter(stop=stop_a).exists()


def test_leaving_records_the_departure_and_the_service_time(driver_client, stop_a):
    end = clock.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    stand(driver_client, end)
    post(driver_client, body((0, 80), end=end + dt.timedelta(seconds=60)))  # within twice the radius
    stop_a.refresh_from_db()
    assert (stop_a.status, stop_a.departed_at) == (StopStatus.ARRIVED, None)

    left = end + dt.timedelta(seconds=90)
    post(driver_client, body((0, 160), end=left))
    post(driver_client, body((0, 900), end=left + dt.timedelta(seconds=30)))

    stop_a.refresh_from_db()
    assert stop_a.departed_at == left
    assert stop_a.service_seconds == 270  # arrived at end - 180 s
    event = StopEvent.objects.get(stop=stop_a, kind="stop_departed")
    assert (event.details["service_seconds"], event.details["source"]) == (270, "geofence")


def test_leaving_a_stop_completed_by_tap_keeps_its_service_time_measured(driver_client, stop_a, driver_user, driver):
    end = clock.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    stand(driver_client, end)
    actor = Actor(organization=driver_user.organization, user=driver_user)
    stop_complete(actor=actor, stop=stop_a, at=end + dt.timedelta(seconds=20), driver=driver)

    post(driver_client, body((0, 300), end=end + dt.timedelta(seconds=40)))

    stop_a.refresh_from_db()
    assert (stop_a.status, stop_a.departed_at) == (StopStatus.DONE, end + dt.timedelta(seconds=40))
    assert stop_a.service_seconds == 220


def test_poor_accuracy_fixes_are_ignored(driver_client, stop_a):
    end = clock.now().replace(microsecond=0)

    for s in range(180, -1, -15):
        post(driver_client, body((s, 5), end=end, accuracy_m=150.0))

    stop_a.refresh_from_db()
    assert (stop_a.status, stop_a.arrived_at, stop_a.order.status) == (StopStatus.PLANNED, None, "dispatched")
    assert not StopEvent.objects.filter(stop=stop_a).exists()


def test_a_stop_arrived_by_a_tap_is_not_arrived_again(driver_client, stop_a, driver_user, driver):
    tapped = clock.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    actor = Actor(organization=driver_user.organization, user=driver_user)
    stop_arrive(actor=actor, stop=stop_a, at=tapped, source=ArrivalSource.DRIVER, driver=driver)

    stand(driver_client, clock.now().replace(microsecond=0))

    stop_a.refresh_from_db()
    assert (stop_a.status, stop_a.arrival_source, stop_a.arrived_at) == (StopStatus.ARRIVED, "driver", tapped)
    assert StopEvent.objects.filter(stop=stop_a, kind="stop_arrived").count() == 1
    assert OrderEvent.objects.filter(order=stop_a.order, kind="order_arrived").count() == 1


def test_a_refused_arrival_leaves_the_position_recorded_and_nothing_else(driver_client, stop_a):
    """The order was cancelled while its stop stayed on the route: the stay changes nothing."""
    Order.objects.filter(pk=stop_a.order_id).update(status="cancelled")
    end = clock.now().replace(microsecond=0)

    stand(driver_client, end)

    stop_a.refresh_from_db()
    stop_a.order.refresh_from_db()
    assert (stop_a.status, stop_a.arrived_at, stop_a.order.status) == (StopStatus.PLANNED, None, "cancelled")
    assert not StopEvent.objects.filter(stop=stop_a).exists()
    assert DriverPosition.objects.filter(driver__user__username="acme-driver").count() == 13


def test_the_driver_may_stop_at_another_stop_than_the_next(driver_client, route):
    stop_b = Stop.objects.get(route=route, sequence=2)
    end = clock.now().replace(microsecond=0)

    for s in range(120, -1, -20):
        post(
            driver_client,
            {
                "positions": [
                    {
                        "recorded_at": (end - dt.timedelta(seconds=s)).isoformat(),
                        "lat": stop_b.order.lat,
                        "lng": stop_b.order.lng,
                    }
                ]
            },
        )

    stop_b.refresh_from_db()
    assert (stop_b.status, stop_b.arrived_at) == (StopStatus.ARRIVED, end - dt.timedelta(seconds=120))
    assert Stop.objects.get(route=route, sequence=1).status == StopStatus.PLANNED


def test_standing_near_a_stop_costs_one_read_of_the_dwell_window(route, driver):
    """Driving between stops costs no statement (tests/tracking/test_position_cost.py); standing, one."""
    start = clock.now().replace(microsecond=0) - dt.timedelta(seconds=30)
    fix = {"recorded_at": start, "lat": north(5)[0], "lng": STOP_A[1], "accuracy_m": 5.0}
    position_receive(driver=driver, fixes=[fix])

    with CaptureQueriesContext(connection) as queries:
        position_receive(driver=driver, fixes=[{**fix, "recorded_at": start + dt.timedelta(seconds=15)}])

    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert [sql.split()[0] for sql in statements] == ["UPDATE", "INSERT", "SELECT", "SELECT"], statements
    assert "recorded_at" in statements[-1]


@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_arrive_once(postgres, route, driver):
    """Two requests of the same driver with the same stay, racing: one arrival, one history row."""
    stop = Stop.objects.get(route=route, sequence=1)
    end = clock.now().replace(microsecond=0)
    batches = [
        [
            {"recorded_at": end - dt.timedelta(seconds=s + offset), "lat": north(10)[0], "lng": STOP_A[1]}
            for s in range(0, 181, 20)
        ]
        for offset in (0, 5)
    ]
    barrier, errors = threading.Barrier(2), []

    def send(fixes_: list[dict]) -> None:
        try:
            barrier.wait(timeout=10)
            position_receive(driver=driver, fixes=fixes_)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    stop.refresh_from_db()
    assert errors == []
    assert (stop.status, stop.arrival_source, stop.order.status) == (StopStatus.ARRIVED, "geofence", "arrived")
    assert StopEvent.objects.filter(stop=stop, kind="stop_arrived").count() == 1
    assert OrderEvent.objects.filter(order=stop.order, kind="order_arrived").count() == 1


# --- Through the driver socket --------------------------------------------------------------------


@pytest.fixture
def memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_standing_at_a_stop_over_the_driver_socket_arrives_and_the_screens_see_it(
    memory_layer, route, driver_user, dispatcher_user
):
    from tests.tracking.test_consumers import connected, drain

    stop = await database_sync_to_async(Stop.objects.select_related("order").get)(route=route, sequence=1)
    tower, _ = await connected("/ws/tower/", dispatcher_user)
    page, _ = await connected(f"/ws/track/{stop.order.tracking_token}/")
    phone, _ = await connected("/ws/driver/", driver_user)
    end = clock.now().replace(microsecond=0)

    for n, s in enumerate(range(180, -1, -20)):
        recorded = (end - dt.timedelta(seconds=s)).isoformat()
        await phone.send_json_to(
            {"type": "position", "recorded_at": recorded, "lat": north(8)[0], "lng": STOP_A[1], "ref": f"m{n}"}
        )
        ack = await phone.receive_json_from(timeout=5)
        assert (ack["ref"], ack["accepted"]) == (f"m{n}", 1)
    tower_messages, page_messages = await drain(tower, 0.5), await drain(page, 0.5)

    await database_sync_to_async(stop.refresh_from_db)()
    assert (stop.status, stop.arrival_source, stop.arrived_at) == (
        "arrived",
        "geofence",
        end - dt.timedelta(seconds=180),
    )
    tower_statuses = [m for m in tower_messages if m["type"] == "order.status" and m["order_id"] == stop.order_id]
    # Both status events of the arrival (out for delivery, arrived) tell the order's status once committed.
    assert [m["status"] for m in tower_statuses] == ["arrived", "arrived"]
    page_statuses = [m["status"] for m in page_messages if m["type"] == "order.status"]
    assert page_statuses == ["arrived", "arrived"]
    for comm in (tower, page, phone):
        await comm.disconnect()
