"""The per-organisation cap on concurrent /api/optimize jobs (WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from common import clock
from common.models import IdempotencyRecord
from dispatch.models.jobs import JobStatus, OptimizationJob
from dispatch.optimize.services import optimization_job_run
from tests.concurrency import run_together
from tests.dispatch.optimize.test_optimize_api import problem

pytestmark = pytest.mark.django_db
ASYNC = "/api/optimize?budget=30&mode=async"


@pytest.fixture(autouse=True)
def _cap_of_two(settings):
    settings.WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG = 2


def post_job(client, **headers):
    return client.post(ASYNC, problem(), format="json", headers=headers)


def test_a_third_concurrent_job_is_refused_with_429_and_retry_after(merchant_client):
    """Two jobs in flight take the organisation's places: the third is refused, nothing is created."""
    first, second = post_job(merchant_client), post_job(merchant_client)
    OptimizationJob.objects.filter(pk=first.json()["id"]).update(
        status=JobStatus.RUNNING, started_at=clock.now() - dt.timedelta(seconds=10), heartbeat_at=clock.now()
    )

    response = post_job(merchant_client)

    assert [first.status_code, second.status_code] == [202, 202]
    assert response.status_code == 429
    assert response["Retry-After"] == "20"  # the running job's 30-s budget, 10 s of it spent
    assert response.json() == {
        "code": "optimization_jobs_limit",
        "message": "Your organisation already has 2 optimization jobs queued or running, the most allowed at "
        "once (2). Retry when one finishes, or cancel one (POST /api/optimize/jobs/{id}/cancel).",
        "details": {"limit": 2, "active_job_ids": sorted([first.json()["id"], second.json()["id"]])},
    }
    assert OptimizationJob.objects.count() == 2


def test_a_job_is_accepted_again_once_one_finishes(merchant_client, settings):
    first = post_job(merchant_client)
    post_job(merchant_client)
    assert post_job(merchant_client).status_code == 429
    OptimizationJob.objects.filter(pk=first.json()["id"]).update(budget_s=0.2)

    optimization_job_run(job_id=first.json()["id"])
    response = post_job(merchant_client)

    assert OptimizationJob.objects.get(pk=first.json()["id"]).status == JobStatus.SUCCEEDED
    assert response.status_code == 202
    assert OptimizationJob.objects.filter(status=JobStatus.QUEUED).count() == 2


def test_a_cancelled_job_frees_its_place(merchant_client):
    first = post_job(merchant_client)
    post_job(merchant_client)

    cancelled = merchant_client.post(f"/api/optimize/jobs/{first.json()['id']}/cancel")
    response = post_job(merchant_client)

    assert cancelled.json()["status"] == "cancelled"
    assert response.status_code == 202


def test_retrying_a_failed_job_takes_a_place_like_a_new_one(merchant_client):
    """A retry queues a solve again: with both places taken it is refused, and the job stays failed."""
    first = post_job(merchant_client)
    OptimizationJob.objects.filter(pk=first.json()["id"]).update(status=JobStatus.FAILED)
    post_job(merchant_client)
    post_job(merchant_client)

    response = merchant_client.post(f"/api/optimize/jobs/{first.json()['id']}/retry")

    assert response.status_code == 429
    assert response.json()["code"] == "optimization_jobs_limit"
    assert OptimizationJob.objects.get(pk=first.json()["id"]).status == JobStatus.FAILED


def test_a_running_job_whose_worker_went_silent_holds_no_place(merchant_client):
    """A dead worker's job must not lock the organisation out until the sweep records it."""
    first = post_job(merchant_client)
    post_job(merchant_client)
    silent_since = clock.now() - dt.timedelta(seconds=61)
    OptimizationJob.objects.filter(pk=first.json()["id"]).update(
        status=JobStatus.RUNNING, started_at=silent_since, heartbeat_at=silent_since
    )

    assert post_job(merchant_client).status_code == 202


def test_the_cap_is_per_organisation(merchant_client, other_organization):
    post_job(merchant_client)
    post_job(merchant_client)
    _, raw = api_key_create(organization=other_organization, created_by=None, name="Other shop")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert post_job(other).status_code == 202
    assert post_job(merchant_client).status_code == 429


def test_a_refused_request_does_not_burn_its_idempotency_key(merchant_client):
    """429 is about the moment: the same key, sent again once a place is free, creates the job."""
    first = post_job(merchant_client)
    post_job(merchant_client)

    refused = post_job(merchant_client, **{"Idempotency-Key": "job-3"})
    merchant_client.post(f"/api/optimize/jobs/{first.json()['id']}/cancel")
    retried = post_job(merchant_client, **{"Idempotency-Key": "job-3"})
    replayed = post_job(merchant_client, **{"Idempotency-Key": "job-3"})

    assert refused.status_code == 429
    assert retried.status_code == 202
    assert replayed.status_code == 202
    assert replayed.json()["id"] == retried.json()["id"]
    assert IdempotencyRecord.objects.get(key="job-3").response_status == 202


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_cannot_both_take_the_last_place(postgres, api_key, settings):
    """The count and the insert happen under the organisation's lock: 4 requests at once, 2 places, 2 jobs."""

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw}")
        return post_job(client).status_code

    statuses = run_together([post] * 4)

    assert sorted(statuses) == [202, 202, 429, 429]
    assert OptimizationJob.objects.count() == 2


def test_the_schema_documents_the_429(client):
    schema = client.get("/api/schema?format=json").json()

    assert "429" in schema["paths"]["/api/optimize"]["post"]["responses"]
