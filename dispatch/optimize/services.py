"""The optimization API's jobs: solve VROOM-format documents inline or in a Celery worker.

Small problems are answered inline. Larger ones become a job: queued, run by a worker that
reports progress (best cost over time) and honours cancellation, and finished with the solution
or an error. A running job beats on time (common/heartbeat.py); a worker killed mid-solve stops
beating, the job reads as failed, the periodic sweep (or the job's redelivered task) records the
failure, and it can be retried. Each run is an attempt: only the current attempt's result is kept.
"""

import datetime as dt
import time

from celery import signature
from django.db import transaction

from accounts.tenancy import Actor
from common import clock
from common.errors import ConflictError, FieldValidationError
from common.heartbeat import heartbeat, stale_after_s
from dispatch.models.jobs import FINISHED, JOB_STALE_ERROR, JobStatus, OptimizationJob
from dispatch.optimize.limits import optimization_job_check_limit
from dispatch.optimize.transitions import optimization_job_created, optimization_job_transition
from routing import Problem, ProblemValidationError, format_solution, parse_problem, solve

INLINE_MAX_TASKS = 50
INLINE_MAX_BUDGET_S = 2.0
PROGRESS_EVERY_S = 1.0
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


def _enqueue(job: OptimizationJob) -> None:
    job_id, attempt = job.pk, job.attempt
    transaction.on_commit(lambda: signature(OPTIMIZATION_JOB_RUN_TASK).delay(job_id, attempt))


def optimization_job_create(*, actor: Actor, document: dict, budget_s: float, seed: int) -> OptimizationJob:
    with transaction.atomic():
        optimization_job_check_limit(organization=actor.organization, stale_after_s=stale_after_s())
        job = OptimizationJob.objects.create(
            organization=actor.organization, actor=actor.label, document=document, budget_s=budget_s, seed=seed
        )
        optimization_job_created(job, actor.label).save()
        _enqueue(job)
    return job


def optimization_job_run(*, job_id: int, attempt: int | None = None) -> OptimizationJob:
    """Run attempt `attempt` of a job (None: the current one).

    Idempotent: a message for a finished job or a superseded attempt does nothing, and a second
    delivery of the running attempt leaves it to the worker that claimed it (one solve at a time).
    """
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().get(pk=job_id)
        if attempt is not None and attempt != job.attempt:
            return job
        if job.status == JobStatus.RUNNING:
            if not _stale(job):
                return job
            # The message came back because the worker running it was lost: record that, then rerun it
            # as a new attempt. If this run dies too, the message that returns is of the old attempt: once.
            job = _fail_stale(job)
            job = optimization_job_transition(
                actor=None,
                job=job,
                to_status=JobStatus.QUEUED,
                reason="Redelivered after its worker was lost.",
                fields={"attempt": job.attempt + 1},
            )
        if job.status != JobStatus.QUEUED:
            return job
        now = clock.now()
        fields = {"started_at": now, "heartbeat_at": now, "attempts": job.attempts + 1, "progress": [], "error": ""}
        job = optimization_job_transition(actor=None, job=job, to_status=JobStatus.RUNNING, fields=fields)
    try:
        # Liveness rides on time, not on improvements: a search may improve nothing for minutes.
        with heartbeat(lambda: _running(job).update(heartbeat_at=clock.now())):
            solution = solve(
                problem_parse(job.document),
                budget_s=job.budget_s,
                seed=job.seed,
                on_progress=_progress_writer(job),
                should_stop=_cancel_checker(job),
            )
    except Exception as error:  # a crash must leave the job failed and retryable, never running
        return _finish(job, JobStatus.FAILED, error=f"{type(error).__name__}: {error}"[:500])
    cancelled = _running(job).filter(cancel_requested=True).exists()
    return _finish(job, JobStatus.CANCELLED if cancelled else JobStatus.SUCCEEDED, solution=format_solution(solution))


def _running(job: OptimizationJob):
    """This attempt's row while it is still the running one (a conditional UPDATE writes nothing else)."""
    return OptimizationJob.objects.filter(pk=job.pk, attempt=job.attempt, status=JobStatus.RUNNING)


def _progress_writer(job: OptimizationJob):
    last = [0.0]

    def report(elapsed_s: float, best_cost: float) -> None:
        job.progress.append([round(elapsed_s, 3), best_cost])
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            _running(job).update(progress=job.progress, best_cost=round(best_cost))

    return report


def _cancel_checker(job: OptimizationJob):
    last, stop = [0.0], [False]

    def should_stop() -> bool:
        now = time.monotonic()
        if not stop[0] and now - last[0] >= 0.5:
            last[0] = now
            # Cancelled, or no longer this attempt's to run (swept as lost, retried): stop the search.
            stop[0] = not _running(job).filter(cancel_requested=False).exists()
        return stop[0]

    return should_stop


def _finish(job: OptimizationJob, status: str, *, solution=None, error: str = "") -> OptimizationJob:
    best = solution["summary"]["cost"] if solution else job.best_cost
    fields = {"solution": solution, "error": error, "finished_at": clock.now(), "progress": job.progress}
    with transaction.atomic():
        locked = OptimizationJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != JobStatus.RUNNING or locked.attempt != job.attempt:
            return locked  # failed by the sweep or superseded by a retry meanwhile: a late result is discarded
        return optimization_job_transition(
            actor=None, job=locked, to_status=status, reason=error, fields={**fields, "best_cost": best}
        )


def _stale(job: OptimizationJob, now: dt.datetime | None = None) -> bool:
    return job.is_stale(now=now or clock.now(), after_s=stale_after_s())


def _fail_stale(job: OptimizationJob) -> OptimizationJob:
    """Record the failure of a run whose worker died (the caller holds the job's lock)."""
    return optimization_job_transition(
        actor=None,
        job=job,
        to_status=JobStatus.FAILED,
        reason="The worker stopped responding.",
        fields={"error": JOB_STALE_ERROR, "finished_at": job.last_heard_at()},
    )


def optimization_jobs_sweep_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Periodic: record every running job whose worker went silent as failed; returns their ids."""
    now = now or clock.now()
    changed = []
    for job in OptimizationJob.objects.filter(status=JobStatus.RUNNING).order_by("pk"):
        if not _stale(job, now):
            continue
        with transaction.atomic():
            locked = OptimizationJob.objects.select_for_update().get(pk=job.pk)
            if _stale(locked, now):
                _fail_stale(locked)
                changed.append(job.pk)
    return changed


def optimization_job_cancel(*, actor: Actor, job: OptimizationJob) -> OptimizationJob:
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().get(pk=job.pk)
        if job.status in FINISHED:
            raise ConflictError(f"The job is already {job.status}.", code="job_finished")
        if job.status == JobStatus.QUEUED:
            fields = {"cancel_requested": True, "finished_at": clock.now()}
            return optimization_job_transition(actor=actor, job=job, to_status=JobStatus.CANCELLED, fields=fields)
        job.cancel_requested = True  # the running search stops at its next check
        job.save(update_fields=["cancel_requested"])
    return job


def optimization_job_retry(*, actor: Actor, job: OptimizationJob) -> OptimizationJob:
    with transaction.atomic():
        job = OptimizationJob.objects.select_for_update().get(pk=job.pk)
        if _stale(job):
            job = _fail_stale(job)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise ConflictError(
                f"Only failed or cancelled jobs can be retried; this one is {job.status}.", code="job_not_retryable"
            )
        # A retry is a new job as far as the optimize pool is concerned: the same per-organisation cap.
        optimization_job_check_limit(organization=actor.organization, stale_after_s=stale_after_s())
        # A new attempt: the old one, if it was only silent and not dead, finds its result discarded.
        fields = {"cancel_requested": False, "finished_at": None, "attempt": job.attempt + 1}
        job = optimization_job_transition(actor=actor, job=job, to_status=JobStatus.QUEUED, fields=fields)
        _enqueue(job)
    return job
