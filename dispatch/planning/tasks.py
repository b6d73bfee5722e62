"""Celery entry points of planning: take ids, call one service, decide retry."""

from celery import shared_task
from django.db import OperationalError

from dispatch.planning.services.plans import PLAN_OPTIMIZE_TASK, plan_optimize_run, plan_sweep_stale


@shared_task(name=PLAN_OPTIMIZE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def plan_optimize_task(self, plan_id: int, attempt: int | None = None) -> str:
    """Optimize one attempt of a plan; a message for a finished, superseded or claimed attempt does nothing."""
    try:
        plan = plan_optimize_run(plan_id=plan_id, attempt=attempt)
    except OperationalError as exc:  # the database went away mid-run: the plan is still optimizing
        raise self.retry(exc=exc, countdown=5 * (self.request.retries + 1)) from exc
    return plan.status


@shared_task
def plan_sweep_stale_task() -> list[int]:
    """Periodic: show optimizations whose worker died as failed (retry button on the board)."""
    return plan_sweep_stale()
