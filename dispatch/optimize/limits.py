"""The per-organisation cap on concurrent /api/optimize jobs.

The optimize worker pool is shared by every tenant: without a cap, one organisation posting
many 300-s solves queues everybody else's behind them. Checked inside the transaction that
creates the job, under a lock on the organisation's row, so concurrent requests from one
organisation are counted one after another and cannot both take the last place.
"""

import math

from django.conf import settings

from accounts.models import Organization
from common import clock
from common.errors import TooManyRequestsError
from dispatch.optimize.selectors import optimization_jobs_active


def optimization_job_check_limit(*, organization: Organization, stale_after_s: float) -> None:
    """Raise TooManyRequestsError if the organisation already has its maximum of jobs in flight.

    Call inside `transaction.atomic()`, before creating the job.
    """
    limit = settings.WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG
    # The lock serialises job creation per organisation (other tenants are not held back).
    Organization.objects.select_for_update().only("pk").get(pk=organization.pk)
    now = clock.now()
    active = list(optimization_jobs_active(organization=organization, now=now, stale_after_s=stale_after_s))
    if len(active) < limit:
        return
    raise TooManyRequestsError(
        f"Your organisation already has {len(active)} optimization jobs queued or running, the most allowed "
        f"at once ({limit}). Retry when one finishes, or cancel one (POST /api/optimize/jobs/{{id}}/cancel).",
        code="optimization_jobs_limit",
        retry_after_s=_soonest_finish_s(active, now),
        details={"limit": limit, "active_job_ids": sorted(job.pk for job in active)},
    )


def _soonest_finish_s(active, now) -> int:
    """Seconds until the first of these jobs should end: its search budget is an upper bound."""
    remaining = [job.budget_s - ((now - job.started_at).total_seconds() if job.started_at else 0.0) for job in active]
    return max(1, math.ceil(min(remaining)))
