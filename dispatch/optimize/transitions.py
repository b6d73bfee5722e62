"""The one writer of optimization-job statuses, and the vocabulary of a job's history."""

from collections.abc import Mapping
from typing import Any

from accounts.tenancy import Actor
from common.lifecycle import actor_label, transition
from dispatch.models.jobs import JOB_LIFECYCLE, OptimizationJob, OptimizationJobEvent


def optimization_job_created(job: OptimizationJob, actor: str) -> OptimizationJobEvent:
    return OptimizationJobEvent(
        job=job,
        kind="optimization_job_created",
        actor=actor,
        to_status=job.status,
        details={"budget_s": job.budget_s, "seed": job.seed},
    )


def optimization_job_status_changed(
    job: OptimizationJob, actor: str, *, previous: str, reason: str = ""
) -> OptimizationJobEvent:
    return OptimizationJobEvent(
        job=job,
        kind=JOB_LIFECYCLE.events[job.status],
        actor=actor,
        from_status=previous,
        to_status=job.status,
        reason=reason[:300],
        details={"attempts": job.attempts},
    )


def optimization_job_transition(
    *,
    actor: Actor | None,
    job: OptimizationJob,
    to_status: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
) -> OptimizationJob:
    """The only way a job changes status."""
    label = actor_label(actor)
    return transition(
        job,
        lifecycle=JOB_LIFECYCLE,
        to_status=to_status,
        fields=fields,
        record=lambda locked, previous: optimization_job_status_changed(
            locked, label, previous=previous, reason=reason
        ),
        payload=lambda locked, previous: {
            "optimization_job_id": locked.pk,
            "organization_id": locked.organization_id,
            "from": previous,
        },
    )
