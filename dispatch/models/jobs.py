from django.db import models

from common import clock


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


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
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"optimization job {self.pk} ({self.status})"

    def is_stale(self, *, now, after_s: float) -> bool:
        """Running but silent: its worker died mid-solve."""
        beat = self.heartbeat_at or self.started_at
        return self.status == JobStatus.RUNNING and (beat is None or (now - beat).total_seconds() > after_s)
