"""A message's statuses: queued goes to sent, failed or suppressed; those three are final."""

import pytest

from notifications.models import Message, MessageStatus

S = MessageStatus
ALLOWED = {(S.QUEUED, S.SENT), (S.QUEUED, S.FAILED), (S.QUEUED, S.SUPPRESSED)}


@pytest.mark.parametrize(
    ("current", "target"),
    [(current, target) for current in S.values for target in S.values],
    ids=[f"{current}->{target}" for current in S.values for target in S.values],
)
def test_each_move_between_statuses_is_allowed_or_refused(current, target):
    message = Message(status=current)

    assert message.can_transition(target) is ((current, target) in ALLOWED)
