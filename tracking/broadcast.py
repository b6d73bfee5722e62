"""The only place that publishes to channel-layer groups.

Publishing waits for the surrounding transaction to commit (a rolled-back change never reaches
a screen), and every payload is round-tripped through JSON first, so a value Redis would reject
fails the same way in the embedded in-memory mode.
"""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)


def board_group(hub_id: int) -> str:
    return f"hub-{hub_id}.board"


def publish_now(group: str, payload: dict) -> None:
    """Send at once: only for code outside any transaction (a worker's progress reports)."""
    message = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "board.event", "payload": message})
    except Exception:
        # A live screen missing one update must never fail the work that produced it.
        logger.exception("Publishing to %s failed", group)


def publish_on_commit(group: str, payload: dict) -> None:
    message = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))  # fail here, not after commit
    transaction.on_commit(lambda: publish_now(group, message))


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


def publish_many_on_commit(messages: list[tuple[str, dict]]) -> None:
    """Push to several groups after commit in one hop to the event loop, the sends running concurrently.

    A driver position fans out to the tower, the board and a tracking page (plus ETA changes):
    one hop instead of one per group keeps the single database thread of a worker free sooner.
    """
    encoded = [(group, json.loads(json.dumps(payload, cls=DjangoJSONEncoder))) for group, payload in messages]
    if encoded:
        transaction.on_commit(lambda: _publish_many_now(encoded))


def _publish_many_now(messages: list[tuple[str, dict]]) -> None:
    import asyncio

    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all():
        sends = [layer.group_send(group, {"type": "board.event", "payload": payload}) for group, payload in messages]
        outcomes = await asyncio.gather(*sends, return_exceptions=True)
        for (group, _payload), outcome in zip(messages, outcomes, strict=True):
            if isinstance(outcome, Exception):
                logger.error("Publishing to %s failed: %r", group, outcome)

    try:
        async_to_sync(send_all)()
    except Exception:
        # A live screen missing one update must never fail the work that produced it.
        logger.exception("Publishing to %d groups failed", len(messages))
