"""The optimization API's jobs: solve VROOM-format documents inline or in a Celery worker.

Small problems are answered inline. Larger ones become a job: queued, run by a worker that
reports progress (best cost over time) and honours cancellation, and finished with the solution
or an error. A worker killed mid-solve stops its heartbeat; such a job reads as failed and can be
retried.
"""

import time

from celery import signature
from django.db import transaction

from accounts.tenancy import Actor
from common import clock
from common.errors import ConflictError, FieldValidationError
from dispatch.models.jobs import FINISHED, JobStatus, OptimizationJob
from routing.errors import ProblemValidationError
from routing.problem import Problem
from routing.solver import solve
from routing.vroom_json import format_solution, parse_problem

INLINE_MAX_TASKS = 50
INLINE_MAX_BUDGET_S = 2.0
STALE_AFTER_S = 60
HEARTBEAT_EVERY_S = 1.0
# Enqueued by name: the tasks module imports the services, never the reverse.
OPTIMIZATION_JOB_RUN_TASK = "dispatch.optimize.tasks.optimization_job_run_task"


def problem_parse(document: dict) -> Problem:
    try:
        return parse_problem(document)
    except ProblemValidationError as error:
        raise FieldValidationError(error.errors, message="The problem document is invalid.") from error


def is_small(problem: Problem, budget_s: float) -> bool:
    tasks = len(problem.jobs) + 2 * len(problem.shipments)
    return tasks <= INLINE_MAX_TASKS and budget_s <= INLINE_MAX_BUDGET_S


def optimize_inline(*, problem: Problem, budget_s: float, seed: int) -> dict:
    return format_solution(solve(problem, budget_s=budget_s, seed=seed))


def optimization_job_create(*, actor: Actor, document: dict, budget_s: float, seed: int) -> OptimizationJob:
    with transaction.atomic():
        job = OptimizationJob.objects.create(
            organization=actor.organization, actor=actor.label, document=document, budget_s=budget_s, seed=seed
        )
        transaction.on_commit(lambda: signature(OPTIMIZATION_JOB_RUN_TASK).delay(job.pk))
    return job


def optimization_job_run(*, job_id: int) -> OptimizationJob:
    """Run a queued job (idempotent: a redelivered message for a finished job does nothing)."""
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().get(pk=job_id)
        if job.status in FINISHED or (job.status == JobStatus.RUNNING and not _stale(job)):
            return job
        job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING, clock.now(), clock.now()
        job.attempts += 1
        job.progress, job.error = [], ""
        job.save()
    try:
        solution = solve(
            problem_parse(job.document),
            budget_s=job.budget_s,
            seed=job.seed,
            on_progress=_progress_writer(job),
            should_stop=_cancel_checker(job),
        )
    except Exception as error:  # a crash must leave the job failed and retryable, never running
        return _finish(job, JobStatus.FAILED, error=f"{type(error).__name__}: {error}"[:500])
    cancelled = OptimizationJob.objects.filter(pk=job.pk, cancel_requested=True).exists()
    return _finish(job, JobStatus.CANCELLED if cancelled else JobStatus.SUCCEEDED, solution=format_solution(solution))


def _progress_writer(job: OptimizationJob):
    last = [0.0]

    def report(elapsed_s: float, best_cost: float) -> None:
        job.progress.append([round(elapsed_s, 3), best_cost])
        now = time.monotonic()
        if now - last[0] >= HEARTBEAT_EVERY_S:
            last[0] = now
            OptimizationJob.objects.filter(pk=job.pk).update(
                progress=job.progress, best_cost=round(best_cost), heartbeat_at=clock.now()
            )

    return report


def _cancel_checker(job: OptimizationJob):
    last, cancelled = [0.0], [False]

    def should_stop() -> bool:
        now = time.monotonic()
        if not cancelled[0] and now - last[0] >= 0.5:
            last[0] = now
            cancelled[0] = OptimizationJob.objects.filter(pk=job.pk, cancel_requested=True).exists()
        return cancelled[0]

    return should_stop


def _finish(job: OptimizationJob, status: str, *, solution=None, error: str = "") -> OptimizationJob:
    best = solution["summary"]["cost"] if solution else job.best_cost
    OptimizationJob.objects.filter(pk=job.pk).update(
        status=status, solution=solution, error=error, finished_at=clock.now(), progress=job.progress, best_cost=best
    )
    job.refresh_from_db()
    return job


def _stale(job: OptimizationJob) -> bool:
    return job.is_stale(now=clock.now(), after_s=STALE_AFTER_S)


def optimization_job_get(*, job: OptimizationJob) -> OptimizationJob:
    """Read a job, turning a silent running job (dead worker) into failed on the way."""
    if _stale(job):
        OptimizationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error="The worker stopped responding; retry the job.", finished_at=clock.now()
        )
        job.refresh_from_db()
    return job


def optimization_job_cancel(*, job: OptimizationJob) -> OptimizationJob:
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().get(pk=job.pk)
        if job.status in FINISHED:
            raise ConflictError(f"The job is already {job.status}.", code="job_finished")
        job.cancel_requested = True
        if job.status == JobStatus.QUEUED:
            job.status, job.finished_at = JobStatus.CANCELLED, clock.now()
        job.save()
    return job


def optimization_job_retry(*, job: OptimizationJob) -> OptimizationJob:
    job = optimization_job_get(job=job)
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise ConflictError(
                f"Only failed or cancelled jobs can be retried; this one is {job.status}.", code="job_not_retryable"
            )
        job.status, job.cancel_requested, job.finished_at = JobStatus.QUEUED, False, None
        job.save()
        transaction.on_commit(lambda: signature(OPTIMIZATION_JOB_RUN_TASK).delay(job.pk))
    return job
