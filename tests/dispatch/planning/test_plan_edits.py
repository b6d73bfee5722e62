"""Manual edits: every edit re-times routes, checks feasibility, bumps the version; refusals change nothing."""

import pytest

from common.errors import DomainError
from dispatch.models import Plan, PlanUnassigned, Route, Stop
from dispatch.planning.services.edits import route_lock_set, route_swap, stop_lock_set, stop_move, stop_unassign
from orders.models import Order
from tests.factories.fleet import DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(optimized_plan):
    """Two vans of 4 parcels, 6 one-parcel orders: optimized."""
    return optimized_plan(parcels=4)


def routes_of(plan):
    return list(plan.routes.order_by("pk"))


def snapshot():
    return sorted(Stop.objects.values_list("pk", "route_id", "sequence", "planned_arrival", "status", "locked"))


def fuller_and_other(plan):
    first, second = routes_of(plan)
    return (first, second) if first.stops.count() >= second.stops.count() else (second, first)


def test_moving_a_stop_to_another_route_retimes_both(actor, plan):
    source, target = fuller_and_other(plan)
    stop = source.stops.order_by("sequence").last()
    before_arrival = stop.planned_arrival

    result = stop_move(
        actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=plan.version
    )

    stop.refresh_from_db()
    target.refresh_from_db()
    assert result.version == plan.version + 1
    assert (stop.route_id, stop.sequence) == (target.pk, 1)
    assert stop.planned_arrival != before_arrival
    assert [s.sequence for s in target.stops.order_by("sequence")] == list(range(1, target.stops.count() + 1))
    assert target.load_parcels == target.stops.count()
    assert Route.objects.get(pk=source.pk).load_parcels == source.stops.count()
    assert result.stop_count == 6


def test_move_over_capacity_is_refused_with_violations_and_changes_nothing(actor, plan):
    source, target = fuller_and_other(plan)
    for stop in list(source.stops.all()):
        if target.stops.count() == 4:
            break
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=None)
    plan.refresh_from_db()
    stop = source.stops.first()
    before, version = snapshot(), plan.version

    with pytest.raises(DomainError) as refused:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=version)

    assert refused.value.code == "edit_infeasible"
    [issues] = refused.value.details["violations"].values()
    assert any("exceeds capacity" in issue for issue in issues)
    assert snapshot() == before
    assert Plan.objects.get(pk=plan.pk).version == version


def test_forced_infeasible_move_flags_the_route(actor, plan):
    source, target = fuller_and_other(plan)
    stops = list(source.stops.all())
    for stop in stops:
        stop_move(
            actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=None, force=True
        )

    target.refresh_from_db()
    assert target.stops.count() == 6
    assert any("exceeds capacity" in issue for issue in target.violations)


def test_stale_version_is_refused_with_409_code(actor, plan):
    source, target = fuller_and_other(plan)
    stop = source.stops.first()
    before = snapshot()

    with pytest.raises(DomainError) as refused:
        stop_move(
            actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=plan.version - 1
        )

    assert refused.value.code == "plan_version_conflict"
    assert refused.value.status_code == 409
    assert "Reload the plan" in refused.value.message
    assert snapshot() == before


def test_locked_stop_and_locked_route_refuse_moves(actor, plan):
    source, target = fuller_and_other(plan)
    stop = source.stops.first()
    stop_lock_set(actor=actor, plan=plan, stop_id=stop.pk, locked=True, expected_version=None)
    before = snapshot()

    with pytest.raises(DomainError) as locked_stop:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=None)
    stop_lock_set(actor=actor, plan=plan, stop_id=stop.pk, locked=False, expected_version=None)
    route_lock_set(actor=actor, plan=plan, route_id=target.pk, locked=True, expected_version=None)
    with pytest.raises(DomainError) as locked_route:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=None)

    assert locked_stop.value.code == "stop_locked"
    assert locked_route.value.code == "route_locked"
    assert Route.objects.get(pk=target.pk).locked is True
    assert [row[:5] for row in snapshot()] == [row[:5] for row in before]


def test_bad_position_and_unknown_route_are_field_errors(actor, plan):
    source, target = fuller_and_other(plan)
    stop = source.stops.first()

    with pytest.raises(DomainError) as position:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=99, expected_version=None)
    with pytest.raises(DomainError) as route:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=999999, position=1, expected_version=None)

    assert position.value.errors == {"position": [f"Must be between 1 and {target.stops.count() + 1}."]}
    assert route.value.errors == {"route_id": ["No such route on this plan."]}


def test_unassigning_a_stop_returns_its_order_to_validated(actor, plan):
    source, _ = fuller_and_other(plan)
    stop = source.stops.order_by("sequence").first()
    count = source.stops.exclude(status="dropped").count()

    result = stop_unassign(actor=actor, plan=plan, stop_id=stop.pk, expected_version=plan.version)

    assert Order.objects.get(pk=stop.order_id).status == "validated"
    assert PlanUnassigned.objects.get(plan=plan).reason == "manual"
    assert Route.objects.get(pk=source.pk).load_parcels == count - 1
    assert (result.stop_count, result.unassigned_count) == (5, 1)


def test_swapping_drivers_and_vehicles_between_routes(actor, plan):
    first, second = routes_of(plan)
    first_stops = set(first.stops.values_list("pk", flat=True))

    route_swap(
        actor=actor, plan=plan, route_id=first.pk, other_route_id=second.pk, swap="driver", expected_version=None
    )
    after_driver = {r.pk: r.driver_id for r in routes_of(plan)}
    route_swap(
        actor=actor, plan=plan, route_id=first.pk, other_route_id=second.pk, swap="vehicle", expected_version=None
    )

    assert after_driver == {first.pk: second.driver_id, second.pk: first.driver_id}
    moved = Route.objects.get(pk=second.pk)
    assert set(moved.stops.values_list("pk", flat=True)) == first_stops
    assert moved.driver_id == second.driver_id  # with the vehicle swap the crew follows its stops


def test_skills_missing_on_the_target_vehicle_is_infeasible(actor, hub, plan):
    source, target = fuller_and_other(plan)
    stop = source.stops.first()
    Order.objects.filter(pk=stop.order_id).update(required_skills=["fridge"])

    with pytest.raises(DomainError) as refused:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=1, expected_version=None)

    assert refused.value.code == "edit_infeasible"
    assert any("needs skills fridge" in v for v in refused.value.details["violations"][str(target.pk)])


def test_window_violation_is_reported(actor, plan):
    source, target = fuller_and_other(plan)
    stop = source.stops.first()
    tight = [{"start": f"{DAY}T08:00:00+02:00", "end": f"{DAY}T08:01:00+02:00"}]
    Order.objects.filter(pk=stop.order_id).update(time_windows=tight)

    with pytest.raises(DomainError) as refused:
        stop_move(actor=actor, plan=plan, stop_id=stop.pk, route_id=target.pk, position=2, expected_version=None)

    assert refused.value.code == "edit_infeasible"
    assert any(f"job {stop.order_id}" in v for v in refused.value.details["violations"][str(target.pk)])
