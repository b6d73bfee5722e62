"""Plans, routes and stops have one JSON shape: REST, the board page and socket, drivers, the tower.

Answers are compared with the hand-built dicts they replaced (`tests/reference_shapes.py`), value
types included (`exact`): 1 and 1.0, or True and 1, differ.
"""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from dispatch.models import DriverShiftOverride, Plan
from dispatch.planning.selectors import driver_routes, plan_get, plan_list
from tests import reference_shapes as reference
from tests.conftest import client_for
from tests.factories.fleet import DAY, small_fleet
from tests.reference_shapes import exact

pytestmark = pytest.mark.django_db
HEADERS = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
# What a driver's route adds to a plan's route.
DRIVER_ROUTE_KEYS = ("plan_id", "hub", "wave")


def post(client, path: str, body: dict) -> dict:
    response = client.post(path, body, format="json")
    assert response.status_code in (200, 201, 202), response.json()
    return response.json()


@pytest.fixture
def day_plan(dispatcher_client, driver_user, hub, django_capture_on_commit_callbacks) -> Plan:
    """Dispatched for DAY: two vans of two parcels for six orders (two left out), one driver on a
    day's own hours, a stop moved by force (violations), a locked stop and a locked route; the first
    van's driver signs in as `driver_user`. A draft second wave beside it."""
    _, drivers, _ = small_fleet(hub, parcels=2)
    drivers[0].user = driver_user
    drivers[0].save()
    DriverShiftOverride.objects.create(driver=drivers[1], date=DAY, start="07:30", end="15:00", breaks=[])
    plan = post(
        dispatcher_client, "/api/plans", {"hub_id": hub.pk, "date": str(DAY), "time_budget_s": 1, "allow_drop": True}
    )
    base = f"/api/plans/{plan['id']}"
    with django_capture_on_commit_callbacks(execute=True):
        post(dispatcher_client, f"{base}/optimize", {})
    plan = dispatcher_client.get(base).json()
    first, second = plan["routes"]
    stop = first["stops"][0]["id"]
    version = plan["version"]
    with django_capture_on_commit_callbacks(execute=True):
        moved = {"route_id": second["id"], "position": 1, "force": True, "expected_version": version}
        post(dispatcher_client, f"{base}/stops/{stop}/move", moved)
        post(dispatcher_client, f"{base}/stops/{stop}/lock", {"locked": True, "expected_version": version + 1})
        post(dispatcher_client, f"{base}/routes/{first['id']}/lock", {"locked": True, "expected_version": version + 2})
        post(dispatcher_client, f"{base}/dispatch", {"expected_version": version + 3})
    post(dispatcher_client, "/api/plans", {"hub_id": hub.pk, "date": str(DAY), "time_budget_s": 1})
    return Plan.objects.get(pk=plan["id"])


def test_plan_answers_keep_their_json(
    organization, hub, day_plan, dispatcher_client, dispatcher_user, driver_client, driver_user
):
    detail = dispatcher_client.get(f"/api/plans/{day_plan.pk}").json()
    listed = dispatcher_client.get(f"/api/plans?date={DAY}").json()["results"]
    board = Client()
    board.force_login(dispatcher_user)
    page = board.get(f"/dispatch/plans/{day_plan.pk}/").context["snapshot"]
    mine = driver_client.get(f"/api/driver/routes?date={DAY}").json()

    plans = plan_list(organization=organization, date=DAY).order_by("-pk")  # the cursor pages' order
    routes = driver_routes(organization=organization, user=driver_user, date=DAY)
    expected = reference.plan_snapshot(plan_get(organization=organization, plan_id=day_plan.pk))
    assert exact(detail) == exact(expected)
    assert exact(page) == exact(expected)
    assert exact(listed) == exact([reference.plan_summary(plan) for plan in plans])
    assert exact(mine) == exact(reference.driver_routes_answer(DAY, routes))
    # The day covers every case the shape has.
    assert [len(detail["unassigned"]), len(listed), len(mine["routes"])] == [2, 2, 1]
    assert [(r["locked"], bool(r["violations"]), r["shift"]["start"]) for r in detail["routes"]] == [
        (True, False, "08:00"),
        (False, True, "07:30"),
    ]
    assert [s["locked"] for s in detail["routes"][1]["stops"]] == [True, False, False]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_api_the_board_and_the_tower_show_a_route_alike(day_plan, hub, dispatcher_user, organization):
    """The REST plan, the board (page and socket), the driver's app and the tower agree on one route."""
    detail, page, mine = await sync_to_async(_answers)(day_plan, dispatcher_user)
    board = await _socket_snapshot(f"/ws/hubs/{hub.pk}/board/", dispatcher_user)
    tower = await _socket_snapshot(f"/ws/tower/?date={DAY}", dispatcher_user)

    summary = {key: value for key, value in detail.items() if key not in ("routes", "unassigned")}
    # The board socket lists plans without their routes; the page and REST carry the same plan.
    assert exact(board["plans"][0]) == exact(summary)
    assert exact(page) == exact(detail)
    [route] = [r for r in detail["routes"] if r["driver"]["id"] == mine["routes"][0]["driver"]["id"]]
    driver_route = mine["routes"][0]
    assert exact({k: v for k, v in driver_route.items() if k not in DRIVER_ROUTE_KEYS}) == exact(route)
    assert [driver_route[k] for k in DRIVER_ROUTE_KEYS] == [day_plan.pk, hub.name, 1]
    # The tower draws a dispatched route its own way, from the same facts.
    assert [_tower_facts(r) for r in tower["routes"]] == [_route_facts(r, detail["id"]) for r in detail["routes"]]
    assert exact(board) == exact(
        await sync_to_async(reference.board_snapshot)(organization=organization, hub_id=hub.pk, since=DAY)
    )


def _answers(plan, user) -> tuple[dict, dict, dict]:
    api, page = client_for(user), Client()
    page.force_login(user)
    driver = client_for(plan.routes.get(driver__user__isnull=False).driver.user)
    return (
        api.get(f"/api/plans/{plan.pk}").json(),
        page.get(f"/dispatch/plans/{plan.pk}/").context["snapshot"],
        driver.get(f"/api/driver/routes?date={DAY}").json(),
    )


async def _socket_snapshot(path: str, user) -> dict:
    communicator = WebsocketCommunicator(application, path, headers=HEADERS)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected, path
    snapshot = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return snapshot


def _route_facts(route: dict, plan_id: int) -> dict:
    return {
        "route": (route["id"], plan_id, route["color"], route["driver"]["id"], route["driver"]["name"]),
        "vehicle": route["vehicle"]["name"],
        "stops": [
            (s["id"], s["order_id"], s["merchant_reference"], s["sequence"], s["status"], s["planned_arrival"])
            + (s["lat"], s["lng"])
            for s in route["stops"]
        ],
    }


def _tower_facts(route: dict) -> dict:
    return {
        "route": (route["id"], route["plan_id"], route["color"], route["driver_id"], route["driver_name"]),
        "vehicle": route["vehicle"],
        "stops": [
            (s["id"], s["order_id"], s["reference"], s["sequence"], s["status"], s["planned_arrival"])
            + (s["lat"], s["lng"])
            for s in route["stops"]
        ],
    }
