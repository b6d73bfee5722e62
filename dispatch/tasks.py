"""Celery entry points of dispatch: take ids, call one service, decide retry."""

from celery import shared_task
from django.db import OperationalError

from dispatch.services.live import plan_order_created
from dispatch.services.planning import plan_optimize_run, plan_sweep_stale


@shared_task(bind=True, acks_late=True, max_retries=3)
def plan_optimize_task(self, plan_id: int) -> str:
    """Optimize a plan; a redelivered message for a finished plan does nothing."""
    try:
        plan = plan_optimize_run(plan_id=plan_id)
    except OperationalError as exc:  # the database went away mid-run: the plan is still optimizing
        raise self.retry(exc=exc, countdown=5 * (self.request.retries + 1)) from exc
    return plan.status


@shared_task
def plan_sweep_stale_task() -> list[int]:
    """Periodic: show optimizations whose worker died as failed (retry button on the board)."""
    return plan_sweep_stale()


@shared_task(acks_late=True)
def plan_order_created_task(order_id: int) -> int | None:
    """Insert an urgent order into a live route (does nothing when it is already on one)."""
    plan = plan_order_created(order_id=order_id)
    return plan.pk if plan else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def optimization_job_run_task(job_id: int) -> str:
    """Solve one /api/optimize job; a redelivered message for a finished job does nothing."""
    from dispatch.services.optimize import optimization_job_run

    return optimization_job_run(job_id=job_id).status


@shared_task
def optimization_jobs_sweep_stale_task() -> list[int]:
    """Periodic: record jobs whose worker died as failed (polling shows them so already)."""
    from dispatch.services.optimize import optimization_jobs_sweep_stale

    return optimization_jobs_sweep_stale()


@shared_task
def slot_holds_expire_task() -> int:
    """Mark holds past their expiry; idempotent, so a redelivered run does nothing more."""
    from dispatch.services.slots import slot_holds_expire

    return slot_holds_expire()
