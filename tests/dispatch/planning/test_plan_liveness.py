"""Plan optimization: liveness on time, one live attempt, late results discarded, killed workers failed in time."""

import datetime as dt
import threading

import pytest
from django.db import connection

from common import clock
from common.heartbeat import stale_after_s
from dispatch.models import Plan, PlanStatus
from dispatch.planning.services import plans as plan_services
from dispatch.planning.services.plans import (
    PLAN_OPTIMIZE_TASK,
    plan_create,
    plan_optimize,
    plan_optimize_run,
    plan_sweep_stale,
)
from dispatch.planning.tasks import plan_optimize_task
from tests.concurrency import run_together
from tests.factories.fleet import DAY, small_fleet
from tests.workers import kill_mid_task, swept_exactly_at_the_bound, wait_for, worker_with_producer

PLAN_STALE = "The optimizer stopped responding (its worker was lost). Retry to optimize again."
SILENT_WORKER = {"DJANGO_SETTINGS_MODULE": "tests.silent_engine", "WAYPOINT_HEARTBEAT_S": "0.2"}


def queued_plan(actor, hub, django_capture_on_commit_callbacks, **fields) -> Plan:
    """A plan whose optimization was requested; its task has not run (no worker took it yet)."""
    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1, **fields)
    with django_capture_on_commit_callbacks(execute=False):
        plan_optimize(actor=actor, plan=plan)
    return Plan.objects.get(pk=plan.pk)


def statuses(plan: Plan) -> list[str]:
    return list(plan.events.order_by("pk").values_list("to_status", flat=True))


@pytest.mark.django_db
def test_a_plan_waiting_for_a_worker_is_not_taken_for_dead(
    dispatcher_client, actor, hub, time_machine, django_capture_on_commit_callbacks
):
    """Queued behind other solves for minutes, it has no heartbeat yet: it still reads optimizing."""
    plan = queued_plan(actor, hub, django_capture_on_commit_callbacks)

    time_machine.shift(dt.timedelta(minutes=5))
    body = dispatcher_client.get(f"/api/plans/{plan.pk}").json()

    assert (body["status"], body["error"]) == ("optimizing", "")
    assert plan_sweep_stale() == []
    assert (plan.attempt, plan.heartbeat_at) == (1, None)


@pytest.mark.django_db
def test_a_claimed_plan_reads_optimizing_until_four_beats_are_missed(
    dispatcher_client, actor, hub, time_machine, django_capture_on_commit_callbacks
):
    plan = queued_plan(actor, hub, django_capture_on_commit_callbacks)
    Plan.objects.filter(pk=plan.pk).update(heartbeat_at=clock.now())  # a worker claimed it

    time_machine.shift(dt.timedelta(seconds=stale_after_s() - 1))  # the clock ticks: a second of slack
    beating = dispatcher_client.get(f"/api/plans/{plan.pk}").json()
    time_machine.shift(dt.timedelta(seconds=2))
    silent = dispatcher_client.get(f"/api/plans/{plan.pk}").json()

    assert (beating["status"], beating["error"]) == ("optimizing", "")
    assert (silent["status"], silent["error"]) == ("failed", PLAN_STALE)


@pytest.mark.django_db
def test_reoptimizing_a_live_plan_is_refused_and_starts_nothing(
    dispatcher_client, actor, hub, django_capture_on_commit_callbacks
):
    plan = queued_plan(actor, hub, django_capture_on_commit_callbacks)
    Plan.objects.filter(pk=plan.pk).update(heartbeat_at=clock.now())

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = dispatcher_client.post(f"/api/plans/{plan.pk}/optimize", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "plan_already_optimizing"
    assert response.json()["message"] == "The plan is already being optimized; wait for it or cancel it."
    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.status, stored.attempt, stored.task_id, stored.version) == (
        "optimizing",
        1,
        plan.task_id,
        plan.version,
    )
    assert (enqueued, statuses(stored)) == ([], ["draft", "optimizing"])


@pytest.mark.django_db
def test_a_second_delivery_of_a_claimed_attempt_does_not_solve_it_again(actor, hub, django_capture_on_commit_callbacks):
    plan = queued_plan(actor, hub, django_capture_on_commit_callbacks)
    Plan.objects.filter(pk=plan.pk).update(heartbeat_at=clock.now())  # another worker is on it

    again = plan_optimize_task.apply(args=[plan.pk, 1]).result
    superseded = plan_optimize_task.apply(args=[plan.pk, 0]).result

    assert (again, superseded) == ("optimizing", "optimizing")
    assert (Plan.objects.get(pk=plan.pk).progress_pct, plan.routes.count()) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_late_result_of_a_superseded_plan_attempt_is_discarded(
    postgres, dispatcher_client, actor, hub, monkeypatch, time_machine
):
    """A worker declared dead but only slow finishes while the re-optimization runs: its routes are dropped."""
    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)
    # Requested (autocommit would run an eager task at once, so the request side is written directly).
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.OPTIMIZING, attempt=1, started_at=clock.now())
    real_optimize, first_solving, release_first = plan_services.optimize, threading.Event(), threading.Event()
    seen_while_second_ran = []

    def optimize(built, **kwargs):
        if threading.current_thread().name == "late-worker":
            first_solving.set()
            release_first.wait(timeout=60)
            return real_optimize(built, **kwargs)
        release_first.set()
        late_worker.join(timeout=60)
        seen_while_second_ran.append(Plan.objects.values_list("status", "attempt").get(pk=plan.pk))
        return real_optimize(built, **kwargs)

    monkeypatch.setattr(plan_services, "optimize", optimize)
    attempt = Plan.objects.get(pk=plan.pk).attempt
    late = []

    def run_late_attempt():
        try:
            late.append(plan_optimize_run(plan_id=plan.pk, attempt=attempt))
        finally:
            connection.close()

    late_worker = threading.Thread(target=run_late_attempt, name="late-worker")
    late_worker.start()
    assert first_solving.wait(timeout=60)

    time_machine.shift(dt.timedelta(seconds=stale_after_s() + 1))
    response = dispatcher_client.post(f"/api/plans/{plan.pk}/optimize", {}, format="json")

    assert response.status_code == 202, response.json()
    assert seen_while_second_ran == [("optimizing", attempt + 1)]
    assert (late[0].status, late[0].attempt) == ("optimizing", attempt + 1)  # what the late run found
    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.status, stored.attempt, stored.stop_count) == ("optimized", attempt + 1, 6)
    assert statuses(stored) == ["draft", "failed", "optimizing", "optimized"]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_silent_solve_keeps_beating_and_a_killed_worker_leaves_the_plan_failed_within_the_bound(
    postgres, redis_url, dispatcher_client, actor, hub
):
    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=300)
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.OPTIMIZING, attempt=1, started_at=clock.now())
    beats, reads = set(), set()

    def beating() -> bool:
        stored = Plan.objects.get(pk=plan.pk)
        if stored.heartbeat_at is not None and stored.progress_pct == 0:  # claimed, nothing reported
            beats.add(stored.heartbeat_at)
            reads.add(dispatcher_client.get(f"/api/plans/{plan.pk}").json()["status"])
        return len(beats) >= 4

    with worker_with_producer(redis_url, env={**SILENT_WORKER, "SILENT_ENGINE_S": "600"}) as (worker, queue, producer):
        producer.send_task(PLAN_OPTIMIZE_TASK, args=[plan.pk, 1], queue=queue)
        assert wait_for(beating, timeout=90)
        assert reads == {"optimizing"}

        kill_mid_task(worker)
    last_beat = Plan.objects.get(pk=plan.pk).heartbeat_at

    assert swept_exactly_at_the_bound(plan_sweep_stale, last_beat=last_beat, pk=plan.pk)
    # The broker hands the unacknowledged message to a worker again: the failed attempt is not rerun.
    assert plan_optimize_task.apply(args=[plan.pk, 1]).result == "failed"
    stored = Plan.objects.get(pk=plan.pk)
    assert (stored.status, stored.error, stored.routes.count()) == ("failed", PLAN_STALE, 0)
    assert statuses(stored) == ["draft", "failed"]


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_attempt_at_the_same_moment_solve_it_once(postgres, actor, hub, monkeypatch):
    """However often the broker delivers an attempt, one worker claims it: one solve, one `optimized`."""
    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=1)
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.OPTIMIZING, attempt=1, started_at=clock.now())
    solves = []
    real_optimize = plan_services.optimize
    monkeypatch.setattr(plan_services, "optimize", lambda built, **kw: solves.append(1) or real_optimize(built, **kw))

    results = run_together([lambda: plan_optimize_run(plan_id=plan.pk, attempt=1)] * 2)

    assert "optimized" in [r.status for r in results]
    assert len(solves) == 1
    assert statuses(Plan.objects.get(pk=plan.pk)) == ["draft", "optimized"]
