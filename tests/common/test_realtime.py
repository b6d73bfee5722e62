"""Pushes to live screens: after commit only, one event loop per transaction, in order."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from common import realtime
from tests.layers import channel_layer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Each after-commit send, as the list of (group, payload) it sent."""
    batches: list[list[tuple[str, dict]]] = []
    monkeypatch.setattr(realtime, "_publish_in_order_now", lambda messages: batches.append(list(messages)))
    return batches


def test_a_changes_pushes_to_several_screens_leave_in_one_send_in_order(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        realtime.tower_publish(1, {"n": 1})
        realtime.tracking_publish(7, {"n": 2})
        realtime.board_publish(3, {"n": 3})

    assert len(callbacks) == 1
    assert sent == [[("org-1.tower", {"n": 1}), ("order-7.tracking", {"n": 2}), ("hub-3.board", {"n": 3})]]


def failing_change(payload: dict) -> None:
    with transaction.atomic():
        realtime.tower_publish(1, payload)
        raise RuntimeError("the change failed")


def test_a_push_inside_a_rolled_back_savepoint_never_leaves(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        realtime.tower_publish(1, {"kept": 1})
        with pytest.raises(RuntimeError):
            failing_change({"rolled_back": 1})
        realtime.tower_publish(1, {"kept": 2})

    assert sent == [[("org-1.tower", {"kept": 1}), ("org-1.tower", {"kept": 2})]]


def test_nothing_is_sent_for_a_transaction_that_rolls_back(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_change({"n": 1})

    assert sent == []


def test_the_pushes_reach_a_screens_channel_in_order(settings, django_capture_on_commit_callbacks):
    with channel_layer_of(settings, "memory"):
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)("org-1.tower", channel)

        with django_capture_on_commit_callbacks(execute=True):
            for n in range(3):
                realtime.tower_publish(1, {"n": n})

        received = [async_to_sync(layer.receive)(channel) for _ in range(3)]
    assert received == [{"type": "board.event", "payload": {"n": n}} for n in range(3)]


def test_the_after_commit_reactions_of_an_event_push_in_one_send_once_all_have_run(
    sent, monkeypatch, django_capture_on_commit_callbacks
):
    from common import events

    monkeypatch.setitem(events._after_commit, "thing_happened", [])
    events.subscribe_after_commit("thing_happened", lambda payload: realtime.tower_publish(1, {"tower": payload["n"]}))
    events.subscribe_after_commit("thing_happened", lambda payload: realtime.board_publish(2, {"board": payload["n"]}))

    with django_capture_on_commit_callbacks(execute=True):
        events.publish_many_on_commit("thing_happened", [{"n": 1}, {"n": 2}])

    assert sent == [
        [
            ("org-1.tower", {"tower": 1}),
            ("org-1.tower", {"tower": 2}),
            ("hub-2.board", {"board": 1}),
            ("hub-2.board", {"board": 2}),
        ]
    ]


@pytest.mark.django_db(transaction=True)
def test_a_push_made_by_an_after_commit_callback_leaves_at_once(sent):
    with transaction.atomic():
        transaction.on_commit(lambda: realtime.tower_publish(1, {"n": 1}))

    assert sent == [[("org-1.tower", {"n": 1})]]
