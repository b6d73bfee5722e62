"""Every move of the optimization-job lifecycle, straight to its one transition service."""

import pytest

from dispatch.models.jobs import JOB_TRANSITIONS, InvalidJobTransition, JobStatus, OptimizationJob, OptimizationJobEvent
from dispatch.optimize.transitions import optimization_job_transition
from tests.factories.fleet import OptimizationJobFactory

pytestmark = pytest.mark.django_db
J = JobStatus

ALLOWED = [
    (J.QUEUED, J.RUNNING),
    (J.QUEUED, J.CANCELLED),
    (J.RUNNING, J.SUCCEEDED),
    (J.RUNNING, J.FAILED),
    (J.RUNNING, J.CANCELLED),
    (J.FAILED, J.QUEUED),
    (J.CANCELLED, J.QUEUED),
]
FORBIDDEN = [(a, b) for a in J.values for b in J.values if (a, b) not in ALLOWED]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in JOB_TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.fixture
def job(organization):
    return OptimizationJobFactory(organization=organization)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_moves_change_status_and_append_one_event(actor, job, announced, source, target):
    OptimizationJob.objects.filter(pk=job.pk).update(status=source)

    moved = optimization_job_transition(actor=actor, job=job, to_status=target, reason="test")

    assert OptimizationJob.objects.get(pk=job.pk).status == target == moved.status
    [event] = OptimizationJobEvent.objects.all()
    assert (event.job_id, event.kind, event.actor, event.from_status, event.to_status, event.reason) == (
        job.pk,
        f"optimization_job_{target}",
        "user:acme-dispatcher",
        source,
        target,
        "test",
    )
    payload = {"optimization_job_id": job.pk, "organization_id": job.organization_id, "from": source}
    assert announced == [(f"optimization_job_{target}", payload)]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}-x->{b}" for a, b in FORBIDDEN])
def test_forbidden_moves_are_refused_and_change_nothing(job, announced, source, target):
    OptimizationJob.objects.filter(pk=job.pk).update(status=source)

    with pytest.raises(InvalidJobTransition) as refusal:
        optimization_job_transition(actor=None, job=job, to_status=target)

    assert refusal.value.code == "invalid_optimization_job_transition"
    assert refusal.value.details["allowed"] == sorted(JOB_TRANSITIONS[source])
    assert OptimizationJob.objects.get(pk=job.pk).status == source
    assert OptimizationJobEvent.objects.count() == 0
    assert announced == []
