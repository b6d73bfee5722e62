"""Every move of the delivery-exception lifecycle, straight to its one transition service."""

import pytest

from accounts.tenancy import Actor
from tracking.errors import InvalidExceptionTransition
from tracking.models import EXCEPTION_TRANSITIONS, DeliveryException, ExceptionEvent, ExceptionStatus
from tracking.services.exceptions import exception_raise, exception_transition

pytestmark = pytest.mark.django_db
E = ExceptionStatus

ALLOWED = [(E.OPEN, E.ACKNOWLEDGED), (E.OPEN, E.RESOLVED), (E.ACKNOWLEDGED, E.RESOLVED)]
FORBIDDEN = [(a, b) for a in E.values for b in E.values if (a, b) not in ALLOWED]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in EXCEPTION_TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.fixture
def exception(organization):
    return exception_raise(organization=organization, kind="late_risk", cause="late_risk:stop:1", message="Late")


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_moves_change_status_and_append_one_event(dispatcher_user, exception, announced, source, target):
    DeliveryException.objects.filter(pk=exception.pk).update(status=source)
    actor = Actor(organization=exception.organization, user=dispatcher_user)

    moved = exception_transition(actor=actor, exception=exception, to_status=target, note="test")

    assert DeliveryException.objects.get(pk=exception.pk).status == target == moved.status
    event = ExceptionEvent.objects.latest("id")
    assert ExceptionEvent.objects.count() == 2  # raised, then this move
    assert (event.kind, event.actor, event.from_status, event.to_status, event.note) == (
        target,
        "user:acme-dispatcher",
        source,
        target,
        "test",
    )
    payload = {"exception_id": exception.pk, "kind": "late_risk", "from": source}
    assert announced == [(f"exception_{target}", payload)]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}-x->{b}" for a, b in FORBIDDEN])
def test_forbidden_moves_are_refused_and_change_nothing(exception, announced, source, target):
    DeliveryException.objects.filter(pk=exception.pk).update(status=source)

    with pytest.raises(InvalidExceptionTransition) as refusal:
        exception_transition(actor=None, exception=exception, to_status=target)

    allowed = sorted(EXCEPTION_TRANSITIONS[source])
    assert refusal.value.details == {"current": source, "target": target, "allowed": allowed}
    assert refusal.value.message == (
        f"An exception that is {source} cannot become {target}. Allowed: {', '.join(allowed) or 'none (final status)'}."
    )
    assert DeliveryException.objects.get(pk=exception.pk).status == source
    assert list(ExceptionEvent.objects.values_list("kind", flat=True)) == ["raised"]
    assert announced == []
