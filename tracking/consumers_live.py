"""Live tracking sockets: the control tower, the driver's phone and the customer's tracking page.

Each consumer authenticates, joins its groups, sends a fresh snapshot on connect (a reconnect or
a reload shows the truth), turns each incoming message into one service call, and forwards group
events unchanged (`tracking.broadcast` sends them all as `board.event`).
"""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.tenancy import actor_from_request_user
from orders.selectors import order_by_tracking_token
from tracking import live
from tracking.broadcast import tower_group, tracking_group

TOWER_ROLES = frozenset({"admin", "dispatcher", "viewer"})
FORBIDDEN = 4403
NOT_FOUND = 4404
# Positions from many phones are recorded in parallel: each is mostly waiting on the database, and
# the default thread-sensitive path would queue every driver of a worker behind one thread (about
# 35 positions/s on Postgres). Threads are created on demand; each keeps its own connection.
POSITION_THREADS = ThreadPoolExecutor(max_workers=3, thread_name_prefix="positions")


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Dispatches without channels' per-message `close_old_connections` hop to the sync thread.

    Every database call of these consumers goes through `database_sync_to_async`, which recycles
    connections itself; the extra hop for every forwarded event and every position was a large
    share of a worker's time under load (bench/tracking_load.py).
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class ForwardingConsumer(LiveConsumer):
    groups_joined: tuple[str, ...] = ()

    async def join(self, *groups: str) -> None:
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def board_event(self, event):
        await self.send_json(event["payload"])

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":  # keep-alive through proxies
            await self.send_json({"type": "pong"})


@database_sync_to_async
def _tower_organization(user):
    actor = actor_from_request_user(user)
    return actor.organization if actor is not None and actor.role in TOWER_ROLES else None


@database_sync_to_async
def _tower_snapshot(organization, day):
    return live.tower_snapshot(organization=organization, day=day)


def _day_from(scope) -> dt.date | None:
    values = parse_qs(scope.get("query_string", b"").decode()).get("date")
    try:
        return dt.date.fromisoformat(values[0]) if values else None
    except ValueError:
        return None


class ControlTowerConsumer(ForwardingConsumer):
    """`/ws/tower/`: every driver, ETA and exception of the signed-in user's organization."""

    async def connect(self):
        organization = await _tower_organization(self.scope.get("user"))
        if organization is None:
            await self.close(code=FORBIDDEN)
            return
        await self.join(tower_group(organization.pk))
        await self.accept()
        await self.send_json(await _tower_snapshot(organization, _day_from(self.scope)))


@database_sync_to_async
def _order_for_token(token: str):
    return order_by_tracking_token(token=token)


@database_sync_to_async
def _tracking_snapshot(order):
    return live.tracking_snapshot(order)


class TrackingPageConsumer(ForwardingConsumer):
    """`/ws/track/<token>/`: public, keyed by the order's unguessable token; this order only."""

    async def connect(self):
        order = await _order_for_token(self.scope["url_route"]["kwargs"]["token"])
        if order is None:
            await self.close(code=NOT_FOUND)
            return
        await self.join(tracking_group(order.pk))
        await self.accept()
        await self.send_json(await _tracking_snapshot(order))


class DriverConsumer(LiveConsumer):
    """`/ws/driver/`: the driver's phone sends positions and gets an ack per message."""

    channel_layer_alias = None  # the phone only sends: it joins no group and needs no channel
    driver = None

    async def connect(self):
        find = database_sync_to_async(live.driver_for_user, thread_sensitive=False, executor=POSITION_THREADS)
        self.driver = await find(self.scope.get("user"))
        if self.driver is None:
            await self.close(code=FORBIDDEN)
            return
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "invalid_message", "message": "Send a JSON object."})
        elif content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        elif content.get("type") in ("position", "positions"):
            receive = database_sync_to_async(
                live.position_message_receive, thread_sensitive=False, executor=POSITION_THREADS
            )
            ack = await receive(driver=self.driver, message=content)
            await self.send_json(ack)
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "message": "Unknown message type."})

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # answered as an invalid message rather than closing the socket
