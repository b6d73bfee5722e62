"""Every move of the slot-hold lifecycle, straight to its one transition service."""

import pytest

from dispatch.models import HOLD_TRANSITIONS, HoldStatus, SlotHold, SlotHoldEvent
from dispatch.models.slots import InvalidHoldTransition
from dispatch.slots.transitions import slot_hold_transition
from tests.factories.fleet import SlotHoldFactory

pytestmark = pytest.mark.django_db
H = HoldStatus

ALLOWED = [(H.ACTIVE, H.CONFIRMED), (H.ACTIVE, H.RELEASED), (H.ACTIVE, H.EXPIRED)]
FORBIDDEN = [(a, b) for a in H.values for b in H.values if (a, b) not in ALLOWED]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in HOLD_TRANSITIONS.items() for b in targets} == set(ALLOWED)


@pytest.fixture
def hold(hub):
    return SlotHoldFactory(hub=hub)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_moves_change_status_and_append_one_event(actor, hold, announced, source, target):
    SlotHold.objects.filter(pk=hold.pk).update(status=source)

    moved = slot_hold_transition(actor=actor, hold=hold, to_status=target, reason="test")

    assert SlotHold.objects.get(pk=hold.pk).status == target == moved.status
    [event] = SlotHoldEvent.objects.all()
    assert (event.hold_id, event.kind, event.actor, event.from_status, event.to_status, event.reason) == (
        hold.pk,
        f"slot_hold_{target}",
        "user:acme-dispatcher",
        source,
        target,
        "test",
    )
    payload = {"slot_hold_id": hold.pk, "organization_id": hold.organization_id, "order_id": None, "from": source}
    assert announced == [(f"slot_hold_{target}", payload)]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}-x->{b}" for a, b in FORBIDDEN])
def test_forbidden_moves_are_refused_and_change_nothing(hold, announced, source, target):
    SlotHold.objects.filter(pk=hold.pk).update(status=source)

    with pytest.raises(InvalidHoldTransition) as refusal:
        slot_hold_transition(actor=None, hold=hold, to_status=target)

    assert refusal.value.code == "invalid_slot_hold_transition"
    assert refusal.value.message == (
        f"A slot hold in status '{source}' cannot move to '{target}'. "
        f"Allowed: {', '.join(sorted(HOLD_TRANSITIONS[source])) or 'none (final status)'}."
    )
    assert SlotHold.objects.get(pk=hold.pk).status == source
    assert SlotHoldEvent.objects.count() == 0
    assert announced == []
