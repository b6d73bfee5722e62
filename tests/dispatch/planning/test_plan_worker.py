"""Optimization off the request thread: the in-process worker (embedded) and a real worker killed mid-solve."""

import datetime as dt
import signal
import time

import pytest

from common import clock
from common.heartbeat import stale_after_s
from common.models import OutboxEvent
from dispatch.models import Plan, PlanStatus
from dispatch.planning.services.plans import plan_create, plan_optimize, plan_sweep_stale
from tests.factories.fleet import DAY, small_fleet
from tests.workers import celery_worker_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inprocess_worker():
    from celery import _state

    from config.celery import app, start_inprocess_worker

    app.conf.task_always_eager = False
    yield start_inprocess_worker()
    # The worker thread marks the whole process as a worker, which makes Celery refuse
    # `result.get()` in later eager tests; the thread itself stays (it is shared per process).
    _state._set_task_join_will_block(False)


def test_inprocess_worker_optimizes_and_reports_progress(actor, hub, inprocess_worker):

    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=2)

    started = plan_optimize(actor=actor, plan=plan)

    assert Plan.objects.get(pk=plan.pk).status in ("optimizing", "optimized")  # returned before solving ends
    assert wait_for(lambda: Plan.objects.get(pk=plan.pk).status == "optimized")
    done = Plan.objects.get(pk=plan.pk)
    assert done.task_id == started.task_id
    assert done.stop_count == 6
    assert done.best_cost is not None
    # The worker thread goes on to deliver the plan's events: the test ends once it has, so that
    # the database is not emptied under it (a TRUNCATE against its transaction deadlocks).
    assert wait_for(lambda: not OutboxEvent.objects.filter(delivered_at__isnull=True).exists())


@pytest.mark.celery
def test_worker_killed_mid_solve_leaves_a_plan_that_is_marked_failed_and_retried(postgres, redis_url, actor, hub):
    """A SIGKILLed worker stops the heartbeat; the sweep shows the plan failed; a retry optimizes it."""
    from celery import Celery

    small_fleet(hub)
    plan = plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=30)
    worker, queue = celery_worker_process(redis_url)
    # Not the current app: the retry below must go through the project app (eager in tests).
    producer = Celery("test-producer", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.OPTIMIZING, attempt=1, started_at=clock.now())
        producer.send_task("dispatch.planning.tasks.plan_optimize_task", args=[plan.pk, 1], queue=queue)
        assert wait_for(lambda: Plan.objects.get(pk=plan.pk).progress_pct > 0, timeout=60)

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        beat = Plan.objects.get(pk=plan.pk).heartbeat_at
        time.sleep(1)

        assert Plan.objects.get(pk=plan.pk).heartbeat_at == beat  # nobody is working on it
        assert plan_sweep_stale(now=beat + dt.timedelta(seconds=stale_after_s() + 1)) == [plan.pk]
        failed = Plan.objects.get(pk=plan.pk)
        assert failed.status == "failed"
        Plan.objects.filter(pk=plan.pk).update(time_budget_s=1)

        retried = plan_optimize(actor=actor, plan=failed)
        assert wait_for(lambda: Plan.objects.get(pk=plan.pk).status == "optimized", timeout=30), (
            Plan.objects.filter(pk=plan.pk).values("status", "error", "progress_pct", "version").first()
        )
        assert retried.version > failed.version
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate(timeout=30)
        producer.close()
