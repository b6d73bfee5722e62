"""Production shape: a real worker per queue on Redis. An urgent order is inserted into its live
route while the optimize worker is busy with a long solve (issue 12, item 4)."""

import pytest

from common.models import OutboxEvent
from dispatch.models import Stop
from dispatch.models.jobs import JobStatus, OptimizationJob
from dispatch.planning.services.plans import plan_dispatch
from orders.models import Order
from tests.dispatch.optimize.test_optimize_api import problem
from tests.factories.fleet import DAY
from tests.factories.orders import order_payload
from tests.workers import celery_worker_process, project_app_sending_to, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def stop_workers(*workers):
    for worker in workers:
        worker.terminate()
    return [worker.communicate(timeout=60)[0].decode(errors="replace") for worker in workers]


def test_an_urgent_insertion_completes_while_a_long_solve_runs(
    postgres, redis_url, settings, actor, optimized_plan, merchant_client
):
    plan = optimized_plan(parcels=5)
    plan_dispatch(actor=actor, plan=plan, expected_version=plan.version)
    optimizer, prefix = celery_worker_process(redis_url, queues=["optimize"])
    live, _ = celery_worker_process(redis_url, queues=["live"], prefix=prefix)
    settings.WAYPOINT_QUEUE_PREFIX = prefix  # this process's sends reach those two workers
    job_id = None
    try:
        with project_app_sending_to(redis_url):
            # given: the optimize worker is busy with a 300-s solve
            response = merchant_client.post("/api/optimize?budget=300&mode=async", problem(40, 40), format="json")
            job_id = response.json()["id"]
            assert wait_for(lambda: OptimizationJob.objects.get(pk=job_id).status == JobStatus.RUNNING, timeout=90)

            # when: an urgent order arrives for the dispatched plan's hub and day
            window = [{"start": f"{DAY}T10:00:00+02:00", "end": f"{DAY}T14:00:00+02:00"}]
            payload = order_payload("URGENT-1", priority=95, time_windows=window)
            created = merchant_client.post("/api/orders", payload, format="json")

            # then: the live worker inserts it into a route while the solve goes on
            assert created.status_code == 201, created.json()
            dispatched = wait_for(lambda: Order.objects.get(merchant_reference="URGENT-1").status == "dispatched")
            assert dispatched
            assert OptimizationJob.objects.get(pk=job_id).status == JobStatus.RUNNING
            assert Stop.objects.get(order__merchant_reference="URGENT-1").route.plan_id == plan.pk
    finally:
        if job_id is not None:
            OptimizationJob.objects.filter(pk=job_id).update(cancel_requested=True)
            wait_for(lambda: OptimizationJob.objects.get(pk=job_id).status != JobStatus.RUNNING, timeout=60)
        wait_for(lambda: not OutboxEvent.objects.filter(delivered_at__isnull=True).exists(), timeout=60)
        outputs = stop_workers(optimizer, live)
    assert OptimizationJob.objects.get(pk=job_id).status == JobStatus.CANCELLED
    assert all("Traceback" not in output for output in outputs), outputs
