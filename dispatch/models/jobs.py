import datetime as dt

from django.db import models

from common import clock, events
from common.lifecycle import HistoryEvent, InvalidTransition, Lifecycle, presented


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
J = JobStatus
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    J.QUEUED: frozenset({J.RUNNING, J.CANCELLED}),
    J.RUNNING: frozenset({J.SUCCEEDED, J.FAILED, J.CANCELLED}),
    # Retried by the caller, or re-run when its message comes back after the worker was lost.
    J.FAILED: frozenset({J.QUEUED}),
    J.CANCELLED: frozenset({J.QUEUED}),
    J.SUCCEEDED: frozenset(),
}
JOB_EVENTS = {
    J.QUEUED: events.OPTIMIZATION_JOB_QUEUED,
    J.RUNNING: events.OPTIMIZATION_JOB_RUNNING,
    J.SUCCEEDED: events.OPTIMIZATION_JOB_SUCCEEDED,
    J.FAILED: events.OPTIMIZATION_JOB_FAILED,
    J.CANCELLED: events.OPTIMIZATION_JOB_CANCELLED,
}


class InvalidJobTransition(InvalidTransition):
    code = "invalid_optimization_job_transition"


JOB_LIFECYCLE = Lifecycle("optimization job", JOB_TRANSITIONS, JOB_EVENTS, error=InvalidJobTransition)
JOB_STALE_ERROR = "The worker stopped responding; retry the job."


class OptimizationJob(models.Model):
    """An asynchronous solve of a VROOM-format document posted to /api/optimize."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="optimization_jobs"
    )
    actor = models.CharField(max_length=150)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    document = models.JSONField()
    budget_s = models.FloatField()
    seed = models.IntegerField(default=0)
    # [[elapsed_s, best_cost], ...] as the search improves: the UI draws it.
    progress = models.JSONField(default=list)
    best_cost = models.BigIntegerField(null=True, blank=True)
    solution = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Runs started so far; `attempt` numbers the current one. A task carries the attempt it was
    # queued for, and a run of any other attempt (superseded by a retry) writes nothing.
    attempts = models.PositiveSmallIntegerField(default=0)
    attempt = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"optimization job {self.pk} ({self.status})"

    def last_heard_at(self) -> dt.datetime | None:
        return self.heartbeat_at or self.started_at

    def is_stale(self, *, now: dt.datetime, after_s: float) -> bool:
        """Running but silent: its worker died mid-solve."""
        beat = self.last_heard_at()
        return self.status == JobStatus.RUNNING and (beat is None or (now - beat).total_seconds() > after_s)

    def as_read(self, *, now: dt.datetime, after_s: float) -> "OptimizationJob":
        """The job as readers see it: a stale run shows as the failure the sweeper will record."""
        if not self.is_stale(now=now, after_s=after_s):
            return self
        return presented(self, status=JobStatus.FAILED, error=JOB_STALE_ERROR, finished_at=self.last_heard_at())


class OptimizationJobEvent(HistoryEvent):
    """Append-only history of a job: created, then each status it took."""

    job = models.ForeignKey(OptimizationJob, on_delete=models.CASCADE, related_name="events")
