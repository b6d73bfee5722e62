"""The planning API: create, read, optimize (202), edits with versions, dispatch, roles, tenancy."""

import pytest

from accounts.services import user_create
from dispatch.models import Plan, Stop
from tests.conftest import client_for
from tests.factories.fleet import DAY, small_fleet

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(hub):
    return small_fleet(hub, parcels=4)


def create(client, hub, **extra):
    return client.post("/api/plans", {"hub_id": hub.pk, "date": str(DAY), "time_budget_s": 1, **extra}, format="json")


def optimized(client, hub, capture):
    plan = create(client, hub).json()
    with capture(execute=True):
        response = client.post(f"/api/plans/{plan['id']}/optimize", {}, format="json")
    assert response.status_code == 202, response.json()
    return client.get(f"/api/plans/{plan['id']}").json()


def test_create_answers_the_draft_plan(dispatcher_client, hub):
    response = create(dispatcher_client, hub, objective="distance")

    body = response.json()
    assert response.status_code == 201
    assert {k: body[k] for k in ("date", "wave", "objective", "status", "version", "routes", "unassigned")} == {
        "date": "2026-12-01",
        "wave": 1,
        "objective": "distance",
        "status": "draft",
        "version": 1,
        "routes": [],
        "unassigned": [],
    }


def test_create_with_bad_input_gives_field_errors(dispatcher_client, hub, other_organization):
    response = dispatcher_client.post(
        "/api/plans", {"hub_id": 999, "date": "soon", "objective": "speed"}, format="json"
    )
    unknown = dispatcher_client.post("/api/plans", {"hub_id": 999, "date": str(DAY)}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"date", "objective"}
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"hub_id": ["Unknown hub."]}
    assert Plan.objects.count() == 0


def test_optimize_answers_202_and_the_plan_shows_routes(
    dispatcher_client, hub, fleet, django_capture_on_commit_callbacks
):
    plan = create(dispatcher_client, hub).json()

    with django_capture_on_commit_callbacks(execute=True):
        response = dispatcher_client.post(f"/api/plans/{plan['id']}/optimize", {}, format="json")
    detail = dispatcher_client.get(f"/api/plans/{plan['id']}").json()

    assert response.status_code == 202
    assert set(response.json()) == {"plan_id", "task_id", "status", "version"}
    assert len(response.json()["task_id"]) == 36
    assert detail["status"] == "optimized"
    assert detail["totals"]["stops"] == 6
    assert sum(len(r["stops"]) for r in detail["routes"]) == 6
    assert detail["progress"]["progress_pct"] == 100


def test_move_with_stale_version_is_409_and_the_current_one_works(
    dispatcher_client, hub, fleet, django_capture_on_commit_callbacks
):
    plan = optimized(dispatcher_client, hub, django_capture_on_commit_callbacks)
    source, target = sorted(plan["routes"], key=lambda r: -len(r["stops"]))
    stop = source["stops"][0]
    url = f"/api/plans/{plan['id']}/stops/{stop['id']}/move"

    stale = dispatcher_client.post(
        url, {"route_id": target["id"], "position": 1, "expected_version": plan["version"] - 1}
    )
    fresh = dispatcher_client.post(url, {"route_id": target["id"], "position": 1, "expected_version": plan["version"]})

    assert stale.status_code == 409
    assert stale.json()["code"] == "plan_version_conflict"
    assert fresh.status_code == 200
    assert fresh.json()["version"] == plan["version"] + 1
    moved = next(r for r in fresh.json()["routes"] if r["id"] == target["id"])
    assert moved["stops"][0]["id"] == stop["id"]


def test_infeasible_move_is_409_with_violations(dispatcher_client, hub, fleet, django_capture_on_commit_callbacks):
    plan = optimized(dispatcher_client, hub, django_capture_on_commit_callbacks)
    full, other = sorted(plan["routes"], key=lambda r: -len(r["stops"]))
    version = plan["version"]
    for stop in other["stops"]:
        body = {"route_id": full["id"], "position": 1, "expected_version": version}
        response = dispatcher_client.post(f"/api/plans/{plan['id']}/stops/{stop['id']}/move", body)
        version = response.json().get("version", version)

    body = response.json()
    assert response.status_code == 409
    assert body["code"] == "edit_infeasible"
    assert any("exceeds capacity" in v for v in body["details"]["violations"][str(full["id"])])


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"route_id", "position", "expected_version"}),
        ({"route_id": "x", "position": 0, "expected_version": 1}, {"route_id", "position"}),
    ],
    ids=["empty", "bad"],
)
def test_edit_input_errors_are_field_level(
    dispatcher_client, hub, fleet, django_capture_on_commit_callbacks, payload, fields
):
    plan = optimized(dispatcher_client, hub, django_capture_on_commit_callbacks)
    stop = plan["routes"][0]["stops"][0]

    response = dispatcher_client.post(f"/api/plans/{plan['id']}/stops/{stop['id']}/move", payload, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields


def test_lock_swap_dispatch_and_breakdown(dispatcher_client, hub, fleet, django_capture_on_commit_callbacks):
    plan = optimized(dispatcher_client, hub, django_capture_on_commit_callbacks)
    first, second = plan["routes"]
    base = f"/api/plans/{plan['id']}"

    locked = dispatcher_client.post(
        f"{base}/routes/{first['id']}/lock", {"locked": True, "expected_version": plan["version"]}
    )
    swap = {"other_route_id": second["id"], "swap": "driver", "expected_version": plan["version"] + 1}
    swapped = dispatcher_client.post(f"{base}/routes/{first['id']}/swap", swap)
    unlocked = dispatcher_client.post(
        f"{base}/routes/{first['id']}/lock", {"locked": False, "expected_version": plan["version"] + 1}
    )
    with django_capture_on_commit_callbacks(execute=True):
        dispatched = dispatcher_client.post(f"{base}/dispatch", {"expected_version": plan["version"] + 2})
    broken = dispatcher_client.post(
        f"{base}/vehicle-breakdown", {"route_id": first["id"], "expected_version": plan["version"] + 3}
    )

    assert locked.status_code == 200
    assert locked.json()["routes"][0]["locked"] is True
    assert (swapped.status_code, swapped.json()["code"]) == (409, "route_locked")
    assert unlocked.status_code == 200
    assert (dispatched.status_code, dispatched.json()["status"]) == (200, "dispatched")
    assert broken.status_code == 200, broken.json()
    after = {r["id"]: r for r in broken.json()["routes"]}
    assert after[first["id"]]["broken_down"] is True
    assert after[first["id"]]["stops"] == []


def test_viewer_reads_but_cannot_edit_and_other_organizations_see_404(
    viewer_client, hub, other_organization, dispatcher_client
):
    plan = create(dispatcher_client, hub).json()
    outsider = client_for(
        user_create(organization=other_organization, username="out", password="pw-12345!", role="admin")
    )

    assert viewer_client.get(f"/api/plans/{plan['id']}").status_code == 200
    assert viewer_client.post(f"/api/plans/{plan['id']}/optimize", {}).status_code == 403
    assert outsider.get(f"/api/plans/{plan['id']}").status_code == 404
    assert outsider.post(f"/api/plans/{plan['id']}/optimize", {}).status_code == 404


def test_driver_sees_only_their_dispatched_routes(
    driver_client, driver_user, dispatcher_client, hub, django_capture_on_commit_callbacks
):
    vehicles, drivers, _ = small_fleet(hub, parcels=4)
    drivers[0].user = driver_user
    drivers[0].save()
    plan = optimized(dispatcher_client, hub, django_capture_on_commit_callbacks)

    before = driver_client.get(f"/api/driver/routes?date={DAY}")
    with django_capture_on_commit_callbacks(execute=True):
        dispatcher_client.post(f"/api/plans/{plan['id']}/dispatch", {"expected_version": plan["version"]})
    after = driver_client.get(f"/api/driver/routes?date={DAY}")

    assert before.json() == {"date": "2026-12-01", "routes": []}
    [route] = after.json()["routes"]
    assert route["driver"]["id"] == drivers[0].pk
    assert [s["sequence"] for s in route["stops"]] == list(range(1, len(route["stops"]) + 1))
    assert set(route["stops"][0]) >= {"address", "time_windows", "planned_arrival", "instructions"}
    assert driver_client.get(f"/api/plans/{plan['id']}").status_code == 403
    assert dispatcher_client.get("/api/driver/routes").status_code == 403
    assert Stop.objects.count() == 6


def test_list_filters_by_date_and_hub(dispatcher_client, hub):
    first = create(dispatcher_client, hub).json()
    create(dispatcher_client, hub, date="2026-12-02")

    listed = dispatcher_client.get(f"/api/plans?date={DAY}&hub_id={hub.pk}")
    bad = dispatcher_client.get("/api/plans?date=tomorrow")

    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["results"]] == [first["id"]]
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"date"}
