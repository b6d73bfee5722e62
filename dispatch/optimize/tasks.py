"""Celery entry points of `/api/optimize`: take ids, call one service, decide retry."""

from celery import shared_task

from dispatch.optimize.services import (
    OPTIMIZATION_JOB_RUN_TASK,
    optimization_job_run,
    optimization_jobs_sweep_stale,
)


@shared_task(name=OPTIMIZATION_JOB_RUN_TASK, acks_late=True, reject_on_worker_lost=True)
def optimization_job_run_task(job_id: int, attempt: int | None = None) -> str:
    """Solve one attempt of an /api/optimize job; a message for a finished or superseded attempt does nothing."""
    return optimization_job_run(job_id=job_id, attempt=attempt).status


@shared_task
def optimization_jobs_sweep_stale_task() -> list[int]:
    """Periodic: record jobs whose worker died as failed (polling shows them so already)."""
    return optimization_jobs_sweep_stale()
