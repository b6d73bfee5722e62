"""Reads of /api/optimize jobs; every selector is given the organization."""

import datetime as dt

from django.db.models import Q, QuerySet

from dispatch.models.jobs import JobStatus, OptimizationJob


def optimization_jobs_active(*, organization, now: dt.datetime, stale_after_s: float) -> QuerySet[OptimizationJob]:
    """Jobs holding a place in the organization's share of the optimize pool: queued, or running
    with a live heartbeat (a run whose worker went silent holds nothing, whether swept yet or not)."""
    alive_since = now - dt.timedelta(seconds=stale_after_s)
    running = Q(status=JobStatus.RUNNING) & (
        Q(heartbeat_at__gte=alive_since) | Q(heartbeat_at__isnull=True, started_at__gte=alive_since)
    )
    return OptimizationJob.objects.filter(Q(organization=organization) & (Q(status=JobStatus.QUEUED) | running))
