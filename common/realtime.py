"""The only place that publishes to channel-layer groups, and that names them.

It lives in `common` so that every app can publish (dispatch to its boards, tracking to the
tower and the tracking pages) without a lower app importing a higher one.

Publishing waits for the surrounding transaction to commit (a rolled-back change never reaches
a screen), and every payload is round-tripped through JSON first, so a value Redis would reject
fails the same way in the embedded in-memory mode.
"""

import asyncio
import contextlib
import json
import logging
import os
import threading
import weakref

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from common.after_commit import gathered_on_commit

logger = logging.getLogger(__name__)
# Positions and ETA changes are coalesced per group over this long (`publish_batched_on_commit`).
BATCH_INTERVAL_S = 0.1


def board_group(hub_id: int) -> str:
    return f"hub-{hub_id}.board"


def publish_now(group: str, payload: dict) -> None:
    """Send at once: only for code outside any transaction (a worker's progress reports)."""
    message = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    _group_send_now(group, {"type": "board.event", "payload": message})


def _group_send_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # A live screen missing one update must never fail the work that produced it.
        logger.exception("Publishing to %s failed", group)


def publish_on_commit(group: str, payload: dict) -> None:
    message = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))  # fail here, not after commit
    if not transaction.get_connection().in_atomic_block:  # committed already: now, or with its batch
        _publish_gathered([(group, message)])
        return
    gathered_on_commit(_publish_gathered).append((group, message))


def _publish_gathered(messages: list[tuple[str, dict]]) -> None:
    """A transaction's pushes, after its commit: on one event loop, in order. Each `async_to_sync`
    starts a loop and the Redis layer a connection for it, so one status change's pushes (board,
    tower, tracking page...) cost one start-up instead of one each."""
    collecting = getattr(_collecting, "batch", None)
    if collecting is not None:
        collecting.extend(messages)
    else:
        _publish_in_order_now(messages)


_collecting = threading.local()


@contextlib.contextmanager
def publishes_collected():
    """Pushes made in the block (after their commits) leave together at its end, on one event loop.

    For the after-commit reactions of one event (common/events.py): the tower's counters, the
    board and the tracking page each push, and each push on its own would start a loop.
    """
    if getattr(_collecting, "batch", None) is not None:
        yield  # an outer block sends them
        return
    batch = _collecting.batch = []
    try:
        yield
    finally:
        _collecting.batch = None
        if batch:
            _publish_in_order_now(batch)


def _publish_in_order_now(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_in_order)(layer, messages)
    except Exception:
        # A live screen missing one update must never fail the work that produced it.
        logger.exception("Publishing to %d groups failed", len(messages))


async def _send_in_order(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        try:
            await layer.group_send(group, {"type": "board.event", "payload": message})
        except Exception:
            logger.exception("Publishing to %s failed", group)


def board_publish(hub_id: int, payload: dict) -> None:
    """Push an event to a hub's dispatch board after commit (`{"type": "plan.progress", ...}`)."""
    publish_on_commit(board_group(hub_id), payload)


def tower_group(organization_id: int) -> str:
    return f"org-{organization_id}.tower"


def tower_publish(organization_id: int, payload: dict) -> None:
    """Push an event to the organization's control tower after commit."""
    publish_on_commit(tower_group(organization_id), payload)


def tracking_group(order_id: int) -> str:
    return f"order-{order_id}.tracking"


def tracking_publish(order_id: int, payload: dict) -> None:
    """Push an event to one order's public tracking page after commit (only that customer's data)."""
    publish_on_commit(tracking_group(order_id), payload)


def access_group() -> str:
    """Every process's listener for access changes (`accounts.sockets`)."""
    return "users.access"


def user_access_publish(user_id: int, message: dict) -> None:
    """Send `{"type": "access.revoked" | "access.changed", ...}` to the user's sockets after commit.

    Not a `board.event`: the sockets act on it themselves (close) instead of forwarding it.
    """
    message = json.loads(json.dumps({**message, "user_id": user_id}, cls=DjangoJSONEncoder))
    group = access_group()
    transaction.on_commit(lambda: _group_send_now(group, message))


def publish_batched_on_commit(messages: list[tuple[str, dict]]) -> None:
    """Push to several groups after commit, coalesced with other pushes of the next BATCH_INTERVAL_S.

    For the stream of driver positions: inside the ASGI server, every push to a group within the
    interval leaves as one `{"type": "batch", "events": [...]}` (a single event as itself), so a
    control tower gets a few messages a second instead of one per driver fix. Screens unpack it.
    Outside a server (a Celery worker, a script) there is nothing to coalesce with: sent at once.
    """
    encoded = _encoded(messages)
    if encoded:
        transaction.on_commit(lambda: _publish_batched_now(encoded))


def _encoded(messages: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [(group, json.loads(json.dumps(payload, cls=DjangoJSONEncoder))) for group, payload in messages]


def _publish_many_now(messages: list[tuple[str, dict]]) -> None:
    try:
        async_to_sync(_send_all)(messages)
    except Exception:
        # A live screen missing one update must never fail the work that produced it.
        logger.exception("Publishing to %d groups failed", len(messages))


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    sends = [layer.group_send(group, {"type": "board.event", "payload": payload}) for group, payload in messages]
    outcomes = await asyncio.gather(*sends, return_exceptions=True)
    for (group, _payload), outcome in zip(messages, outcomes, strict=True):
        if isinstance(outcome, Exception):
            logger.error("Publishing to %s failed: %r", group, outcome)


def _publish_batched_now(messages: list[tuple[str, dict]]) -> None:
    loop = _server_loop()
    if loop is None:
        _publish_many_now(messages)
    else:
        # Straight onto the server's loop: no waiting for the sends, which the batch does later.
        loop.call_soon_threadsafe(_batcher(loop).add, messages)


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The ASGI server's event loop when this thread runs on its behalf (as `sync_to_async` work)."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    same_process = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid()
    return loop if same_process and loop is not None and loop.is_running() and not loop.is_closed() else None


class _Batcher:
    """Collects pushes per group on one event loop and sends them every BATCH_INTERVAL_S."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: dict[str, list[dict]] = {}

    def add(self, messages: list[tuple[str, dict]]) -> None:
        if not self.pending:
            self.loop.call_later(BATCH_INTERVAL_S, self.flush)
        for group, payload in messages:
            self.pending.setdefault(group, []).append(payload)

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        batched = [
            (group, events[0] if len(events) == 1 else {"type": "batch", "events": events})
            for group, events in pending.items()
        ]
        self.loop.create_task(_send_all(batched))


_BATCHERS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = weakref.WeakKeyDictionary()


def _batcher(loop: asyncio.AbstractEventLoop) -> _Batcher:
    batcher = _BATCHERS.get(loop)
    if batcher is None:
        batcher = _BATCHERS[loop] = _Batcher(loop)
    return batcher
