"""Two dispatchers editing one plan at the same moment, against real Postgres: one wins, one gets 409."""

import pytest

from dispatch.models import Plan, Stop
from tests.concurrency import run_together
from tests.conftest import client_for
from tests.factories.fleet import DAY, small_fleet

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_dispatchers_move_stops_of_one_plan_and_one_is_told_to_reload(postgres, hub, dispatcher_user, admin_user):
    small_fleet(hub, parcels=4)
    first = client_for(dispatcher_user)
    plan = first.post("/api/plans", {"hub_id": hub.pk, "date": str(DAY), "time_budget_s": 1}, format="json").json()
    assert first.post(f"/api/plans/{plan['id']}/optimize", {}, format="json").status_code == 202
    plan = first.get(f"/api/plans/{plan['id']}").json()
    assert plan["status"] == "optimized"
    one, two = plan["routes"]
    stop_a, stop_b = one["stops"][0], two["stops"][0]
    version = plan["version"]

    responses = run_together(
        [
            lambda: client_for(dispatcher_user).post(
                f"/api/plans/{plan['id']}/stops/{stop_a['id']}/move",
                {"route_id": two["id"], "position": 1, "expected_version": version, "force": True},
                format="json",
            ),
            lambda: client_for(admin_user).post(
                f"/api/plans/{plan['id']}/stops/{stop_b['id']}/move",
                {"route_id": one["id"], "position": 1, "expected_version": version, "force": True},
                format="json",
            ),
        ]
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["code"] == "plan_version_conflict"
    assert loser["message"].endswith("Reload the plan and try again.")
    assert Plan.objects.get(pk=plan["id"]).version == version + 1
    moved = [Stop.objects.get(pk=s["id"]).route_id for s in (stop_a, stop_b)]
    assert moved in ([two["id"], two["id"]], [one["id"], one["id"]])
