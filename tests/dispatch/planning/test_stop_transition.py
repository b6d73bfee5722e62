"""Every move of the stop lifecycle, straight to its one transition service."""

import pytest

from dispatch.models import STOP_TRANSITIONS, Stop, StopEvent, StopStatus
from dispatch.models.planning import InvalidStopTransition
from dispatch.planning.services.transitions import stop_transition
from tests.factories.fleet import StopFactory

pytestmark = pytest.mark.django_db
S = StopStatus

ALLOWED = [
    (S.PLANNED, S.EN_ROUTE),
    (S.PLANNED, S.ARRIVED),
    (S.PLANNED, S.DONE),
    (S.PLANNED, S.FAILED),
    (S.PLANNED, S.SKIPPED),
    (S.PLANNED, S.DROPPED),
    (S.EN_ROUTE, S.PLANNED),
    (S.EN_ROUTE, S.ARRIVED),
    (S.EN_ROUTE, S.DONE),
    (S.EN_ROUTE, S.FAILED),
    (S.EN_ROUTE, S.SKIPPED),
    (S.EN_ROUTE, S.DROPPED),
    (S.ARRIVED, S.DONE),
    (S.ARRIVED, S.FAILED),
]
FORBIDDEN = [(a, b) for a in S.values for b in S.values if (a, b) not in ALLOWED]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in STOP_TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.fixture
def stop(hub):
    return StopFactory(hub=hub)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_moves_change_status_and_append_one_event(actor, stop, announced, source, target):
    Stop.objects.filter(pk=stop.pk).update(status=source)

    moved = stop_transition(actor=actor, stop=stop, to_status=target, reason="test")

    assert Stop.objects.get(pk=stop.pk).status == target == moved.status
    [event] = StopEvent.objects.all()
    assert (event.stop_id, event.kind, event.actor, event.from_status, event.to_status, event.reason) == (
        stop.pk,
        f"stop_{target}",
        "user:acme-dispatcher",
        source,
        target,
        "test",
    )
    payload = {"stop_id": stop.pk, "route_id": stop.route_id, "order_id": stop.order_id, "from": source}
    assert announced == [(f"stop_{target}", payload)]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}-x->{b}" for a, b in FORBIDDEN])
def test_forbidden_moves_are_refused_and_change_nothing(stop, announced, source, target):
    Stop.objects.filter(pk=stop.pk).update(status=source)

    with pytest.raises(InvalidStopTransition) as refusal:
        stop_transition(actor=None, stop=stop, to_status=target)

    assert refusal.value.code == "invalid_stop_transition"
    assert refusal.value.details == {
        "current_status": source,
        "requested_status": target,
        "allowed": sorted(STOP_TRANSITIONS[source]),
    }
    assert Stop.objects.get(pk=stop.pk).status == source
    assert StopEvent.objects.count() == 0
    assert announced == []
