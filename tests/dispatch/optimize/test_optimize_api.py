"""POST /api/optimize: VROOM documents solved inline or as a job (the REST face of the engine)."""

import datetime as dt

import pytest

from dispatch.models.jobs import OptimizationJob
from dispatch.optimize.services import optimization_job_run

pytestmark = pytest.mark.django_db
HUB = [24.9384, 60.1699]


def problem(n_jobs=2, capacity=10):
    jobs = [
        {"id": i + 1, "location": [24.94 + 0.002 * i, 60.165 + 0.001 * i], "delivery": [1], "service": 120}
        for i in range(n_jobs)
    ]
    return {"vehicles": [{"id": 1, "start": HUB, "end": HUB, "capacity": [capacity]}], "jobs": jobs}


def test_small_problem_is_answered_inline_in_vroom_format(merchant_client):
    response = merchant_client.post("/api/optimize?budget=0.5", problem(), format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["code"] == 0
    assert body["summary"]["unassigned"] == 0
    steps = body["routes"][0]["steps"]
    assert [s["type"] for s in steps] == ["start", "job", "job", "end"]
    assert sorted(s["id"] for s in steps if s["type"] == "job") == [1, 2]


def test_capacity_shortfall_reports_reasons_not_errors(merchant_client):
    response = merchant_client.post("/api/optimize?budget=0.5", problem(n_jobs=3, capacity=2), format="json")

    body = response.json()
    assert response.status_code == 200
    assert [u["reason"] for u in body["unassigned"]] == ["capacity"]


def test_invalid_document_names_the_field(merchant_client):
    bad = problem()
    bad["jobs"][1]["time_windows"] = [[500, 100]]

    response = merchant_client.post("/api/optimize", bad, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "jobs[1].time_windows[0]" in body["errors"]
    assert OptimizationJob.objects.count() == 0


def test_bad_budget_is_a_field_error(merchant_client):
    response = merchant_client.post("/api/optimize?budget=9999", problem(), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"budget": ["Ensure this value is less than or equal to 300."]}


def test_async_job_runs_and_reports_progress(merchant_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = merchant_client.post("/api/optimize?mode=async&budget=0.5", problem(n_jobs=6), format="json")

    assert created.status_code == 202
    job = merchant_client.get(created.json()["poll_url"]).json()
    assert job["status"] == "succeeded"  # tests run Celery eagerly
    assert job["solution"]["summary"]["unassigned"] == 0
    assert job["best_cost"] == job["solution"]["summary"]["cost"]


def test_a_job_whose_worker_died_reads_as_failed_and_can_be_retried(
    merchant_client, organization, django_capture_on_commit_callbacks
):
    job = OptimizationJob.objects.create(
        organization=organization,
        actor="test",
        document=problem(),
        budget_s=0.3,
        status="running",
        started_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        heartbeat_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
    )

    polled = merchant_client.get(f"/api/optimize/jobs/{job.pk}").json()
    with django_capture_on_commit_callbacks(execute=True):
        retried = merchant_client.post(f"/api/optimize/jobs/{job.pk}/retry").json()

    assert (polled["status"], polled["error"]) == ("failed", "The worker stopped responding; retry the job.")
    assert retried["status"] == "queued"
    assert OptimizationJob.objects.get(pk=job.pk).status == "succeeded"


def test_redelivered_task_for_a_finished_job_does_nothing(organization):
    job = OptimizationJob.objects.create(
        organization=organization,
        actor="t",
        document=problem(),
        budget_s=0.3,
        status="succeeded",
        solution={"kept": True},
    )

    assert optimization_job_run(job_id=job.pk).solution == {"kept": True}


def test_cancel_a_queued_job(merchant_client, organization):
    job = OptimizationJob.objects.create(organization=organization, actor="t", document=problem(), budget_s=0.3)

    cancelled = merchant_client.post(f"/api/optimize/jobs/{job.pk}/cancel")
    again = merchant_client.post(f"/api/optimize/jobs/{job.pk}/cancel")

    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["code"] == "job_finished"


def test_jobs_of_another_organization_are_404(merchant_client, other_organization):
    job = OptimizationJob.objects.create(organization=other_organization, actor="t", document=problem(), budget_s=1)

    assert merchant_client.get(f"/api/optimize/jobs/{job.pk}").status_code == 404
