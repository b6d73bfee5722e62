"""A read never writes: a plan or job whose worker died reads as failed; the sweep records it."""

import datetime as dt

import pytest

from common import clock
from dispatch.models import Plan, PlanStatus
from dispatch.models.jobs import JobStatus, OptimizationJob
from dispatch.optimize.tasks import optimization_job_run_task, optimization_jobs_sweep_stale_task
from dispatch.planning.tasks import plan_sweep_stale_task
from tests.dispatch.optimize.test_optimize_api import problem
from tests.factories.fleet import OptimizationJobFactory, PlanFactory, small_fleet

pytestmark = pytest.mark.django_db
PLAN_STALE = "The optimizer stopped responding (its worker was lost). Retry to optimize again."
JOB_STALE = "The worker stopped responding; retry the job."


@pytest.fixture
def silent_plan(hub):
    """A plan left optimizing by a worker that went silent ten minutes ago."""
    long_ago = clock.now() - dt.timedelta(minutes=10)
    return PlanFactory(hub=hub, status=PlanStatus.OPTIMIZING, started_at=long_ago, heartbeat_at=long_ago)


@pytest.fixture
def silent_job(organization):
    """A job left running by a worker that went silent five minutes ago."""
    long_ago = clock.now() - dt.timedelta(minutes=5)
    return OptimizationJobFactory(
        organization=organization,
        document=problem(),
        budget_s=0.3,
        status=JobStatus.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )


def test_reading_a_stale_plan_shows_it_failed_and_writes_nothing(dispatcher_client, silent_plan):
    body = dispatcher_client.get(f"/api/plans/{silent_plan.pk}").json()

    assert (body["status"], body["error"], body["version"]) == ("failed", PLAN_STALE, 1)
    assert body["progress"]["finished_at"] == silent_plan.heartbeat_at.isoformat()
    stored = Plan.objects.get(pk=silent_plan.pk)
    assert (stored.status, stored.error, stored.version, stored.events.count()) == ("optimizing", "", 1, 0)


def test_the_sweep_records_the_stale_plan_as_failed(dispatcher_client, silent_plan):
    swept = plan_sweep_stale_task.apply().result

    assert swept == [silent_plan.pk]
    stored = Plan.objects.get(pk=silent_plan.pk)
    assert (stored.status, stored.error, stored.version) == ("failed", PLAN_STALE, 2)
    assert stored.finished_at == silent_plan.heartbeat_at
    assert list(stored.events.values_list("kind", "actor", "from_status", "to_status", "reason")) == [
        ("plan_failed", "system", "optimizing", "failed", "The optimizer stopped responding.")
    ]
    assert dispatcher_client.get(f"/api/plans/{silent_plan.pk}").json()["status"] == "failed"


def test_retrying_a_stale_plan_records_the_failure_then_optimizes(
    dispatcher_client, hub, silent_plan, django_capture_on_commit_callbacks
):
    small_fleet(hub)

    with django_capture_on_commit_callbacks(execute=True):
        response = dispatcher_client.post(
            f"/api/plans/{silent_plan.pk}/optimize", {"expected_version": 1}, format="json"
        )

    assert response.status_code == 202, response.json()
    stored = Plan.objects.get(pk=silent_plan.pk)
    assert stored.status == "optimized"
    assert list(stored.events.values_list("kind", "from_status")) == [
        ("plan_failed", "optimizing"),
        ("plan_optimizing", "failed"),
        ("plan_optimized", "optimizing"),
    ]


def test_polling_a_stale_job_shows_it_failed_and_writes_nothing(merchant_client, silent_job):
    body = merchant_client.get(f"/api/optimize/jobs/{silent_job.pk}").json()

    assert (body["status"], body["error"]) == ("failed", JOB_STALE)
    assert body["finished_at"] == silent_job.heartbeat_at.isoformat().replace("+00:00", "Z")
    stored = OptimizationJob.objects.get(pk=silent_job.pk)
    assert (stored.status, stored.error, stored.finished_at, stored.events.count()) == ("running", "", None, 0)


def test_the_sweep_records_the_stale_job_as_failed(silent_job):
    swept = optimization_jobs_sweep_stale_task.apply().result

    assert swept == [silent_job.pk]
    stored = OptimizationJob.objects.get(pk=silent_job.pk)
    assert (stored.status, stored.error, stored.finished_at) == ("failed", JOB_STALE, silent_job.heartbeat_at)
    assert list(stored.events.values_list("kind", "actor", "from_status", "to_status")) == [
        ("optimization_job_failed", "system", "running", "failed")
    ]
    assert optimization_jobs_sweep_stale_task.apply().result == []


def test_a_job_still_reporting_is_not_swept(silent_job):
    OptimizationJob.objects.filter(pk=silent_job.pk).update(heartbeat_at=clock.now())

    assert optimization_jobs_sweep_stale_task.apply().result == []
    assert OptimizationJob.objects.get(pk=silent_job.pk).status == "running"


def test_a_redelivered_task_records_the_lost_run_and_runs_again(silent_job):
    status = optimization_job_run_task.apply(args=[silent_job.pk]).result

    assert status == "succeeded"
    stored = OptimizationJob.objects.get(pk=silent_job.pk)
    assert stored.attempts == 1
    assert list(stored.events.values_list("kind", "from_status", "to_status")) == [
        ("optimization_job_failed", "running", "failed"),
        ("optimization_job_queued", "failed", "queued"),
        ("optimization_job_running", "queued", "running"),
        ("optimization_job_succeeded", "running", "succeeded"),
    ]
