"""Optimizing a plan: orders, routes, unassigned reasons, progress, idempotency, stale runs."""

import datetime as dt

import pytest

from common.errors import DomainError
from common.heartbeat import unclaimed_after_s
from dispatch.models import Plan, PlanUnassigned, Route, Stop
from dispatch.planning.services.plans import (
    plan_create,
    plan_mark_stale,
    plan_optimize,
    plan_optimize_cancel,
    plan_optimize_run,
    plan_sweep_stale,
)
from dispatch.planning.tasks import plan_optimize_task
from orders.models import Order, OrderEvent
from tests.factories.fleet import DAY, DriverFactory, OrderFactory, small_fleet

pytestmark = pytest.mark.django_db


def optimized(actor, plan, capture):
    with capture(execute=True):
        plan_optimize(actor=actor, plan=plan)
    return Plan.objects.get(pk=plan.pk)


def test_two_vans_split_six_orders_by_capacity(actor, hub, django_capture_on_commit_callbacks):
    vehicles, _, orders = small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)

    plan = optimized(actor, plan, django_capture_on_commit_callbacks)

    assert plan.status == "optimized"
    assert plan.progress_pct == 100
    assert sorted(r.stops.count() for r in plan.routes.all()) == [3, 3]
    assert set(Stop.objects.values_list("order_id", flat=True)) == {o.pk for o in orders}
    assert set(Order.objects.values_list("status", flat=True)) == {"planned"}
    assert OrderEvent.objects.filter(kind="order_planned", actor="system").count() == 6
    assert plan.stop_count == 6
    assert plan.unassigned_count == 0
    assert plan.total_distance_m == sum(r.distance_m for r in plan.routes.all()) > 0
    for route in plan.routes.all():
        stops = list(route.stops.order_by("sequence"))
        assert [s.sequence for s in stops] == [1, 2, 3]
        assert route.load_parcels == 3
        assert route.start_time <= stops[0].planned_arrival < stops[-1].planned_departure <= route.end_time


def test_no_vehicles_leaves_every_order_unassigned_with_a_reason(actor, hub, django_capture_on_commit_callbacks):
    orders = [OrderFactory(hub=hub) for _ in range(2)]
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)

    plan = optimized(actor, plan, django_capture_on_commit_callbacks)

    assert plan.status == "optimized"
    assert sorted(PlanUnassigned.objects.values_list("order_id", "reason")) == [(o.pk, "no_vehicle") for o in orders]
    assert set(Order.objects.values_list("status", flat=True)) == {"validated"}


def test_no_orders_means_nothing_to_plan(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub, orders=0)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)

    plan = optimized(actor, plan, django_capture_on_commit_callbacks)

    assert plan.status == "optimized"
    assert plan.message == "Nothing to plan: no eligible orders for this hub and day."
    assert Route.objects.count() == 0


def test_impossible_window_is_unassigned_with_its_reason(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub, vans=1, orders=1)
    late = OrderFactory(hub=hub, time_windows=[{"start": f"{DAY}T20:00:00+02:00", "end": f"{DAY}T21:00:00+02:00"}])
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)

    plan = optimized(actor, plan, django_capture_on_commit_callbacks)

    assert list(plan.unassigned.values_list("order_id", "reason")) == [(late.pk, "shift")]
    assert plan.unassigned.get().message == "The delivery window does not fit any driver's shift."
    assert plan.stop_count == 1


def test_only_eligible_orders_and_working_drivers_are_used(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub, vans=1, orders=2)
    DriverFactory(home_hub=hub, weekly_shifts={})  # day off: no crew for a second van
    OrderFactory(hub=hub, status="created")
    OrderFactory(hub=hub, delivery_date=DAY + dt.timedelta(days=1))
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)

    plan = optimized(actor, plan, django_capture_on_commit_callbacks)
    second = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)
    second = optimized(actor, second, django_capture_on_commit_callbacks)

    assert plan.stop_count == 2
    assert plan.routes.count() == 1
    assert (second.wave, second.message) == (2, "Nothing to plan: no eligible orders for this hub and day.")


def test_redelivered_task_for_an_optimized_plan_does_nothing(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub)
    plan = optimized(
        actor, plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1), django_capture_on_commit_callbacks
    )
    routes = list(Route.objects.values_list("pk", flat=True))

    status = plan_optimize_task.apply(args=[plan.pk]).result

    assert status == "optimized"
    assert list(Route.objects.values_list("pk", flat=True)) == routes
    assert Plan.objects.get(pk=plan.pk).version == plan.version


def test_stale_optimization_is_shown_as_failed_and_can_be_retried(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)
    with django_capture_on_commit_callbacks(execute=False):  # the message is lost: the task never runs
        plan_optimize(actor=actor, plan=plan)
    plan.refresh_from_db()
    later = plan.started_at + dt.timedelta(seconds=unclaimed_after_s() + 1)

    # Unclaimed, it may only be waiting behind other solves: lost only once the broker would have resent it.
    assert plan_mark_stale(plan=plan, now=plan.started_at + dt.timedelta(seconds=600)).status == "optimizing"
    assert plan_sweep_stale(now=later) == [plan.pk]
    plan.refresh_from_db()
    assert plan.status == "failed"
    assert "Retry" in plan.error
    assert plan_optimize_run(plan_id=plan.pk).status == "failed"  # the late worker changes nothing

    retried = optimized(actor, plan, django_capture_on_commit_callbacks)

    assert retried.status == "optimized"
    assert retried.stop_count == 6


def test_reoptimizing_keeps_locked_routes_and_pinned_stops(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub, orders=5)
    plan = optimized(
        actor, plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1), django_capture_on_commit_callbacks
    )
    locked_route, other = plan.routes.order_by("pk")
    Route.objects.filter(pk=locked_route.pk).update(locked=True)
    kept = sorted(locked_route.stops.values_list("order_id", "sequence", "planned_arrival"))
    pinned = other.stops.order_by("sequence").first()
    Stop.objects.filter(pk=pinned.pk).update(locked=True)

    plan = optimized(actor, plan, django_capture_on_commit_callbacks)

    assert (
        sorted(Route.objects.get(pk=locked_route.pk).stops.values_list("order_id", "sequence", "planned_arrival"))
        == kept
    )
    assert Stop.objects.get(order_id=pinned.order_id).route.vehicle_id == other.vehicle_id
    assert plan.stop_count == 5


def test_cancel_stops_the_search_and_keeps_the_best_routes(actor, hub, django_capture_on_commit_callbacks):
    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=120)
    with django_capture_on_commit_callbacks(execute=False):
        plan_optimize(actor=actor, plan=plan)

    plan_optimize_cancel(actor=actor, plan=plan)
    done = plan_optimize_run(plan_id=plan.pk)

    assert done.status == "optimized"
    assert done.stop_count == 6
    assert done.finished_at - done.started_at < dt.timedelta(seconds=120)


def test_cancel_is_refused_when_not_optimizing(actor, hub):
    plan = plan_create(actor=actor, hub=hub, date=DAY)

    with pytest.raises(DomainError) as refused:
        plan_optimize_cancel(actor=actor, plan=plan)

    assert refused.value.code == "plan_not_optimizing"
    assert Plan.objects.get(pk=plan.pk).cancel_requested is False
