"""Live tracking sockets: the control tower, the driver's phone and the customer's tracking page.

Each consumer authenticates, joins its groups, sends a fresh snapshot on connect (a reconnect or
a reload shows the truth), turns each incoming message into one service call, and forwards group
events unchanged (`common.realtime` sends them all as `board.event`). The driver socket's
messages are handled by `tracking/protocol.py`.
"""

import asyncio
import datetime as dt
import weakref
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.sockets import AccessCheckedSocket, refusal_code
from accounts.tenancy import actor_from_request_user
from common.realtime import tower_group, tracking_group
from tracking.protocol import driver_for_user, position_messages_receive
from tracking.selectors.tower import tower_snapshot
from tracking.selectors.tracking_page import tracked_order, tracking_snapshot
from tracking.serializers import TowerSnapshotSerializer, TrackingSnapshotSerializer

TOWER_ROLES = frozenset({"admin", "dispatcher", "viewer"})
NOT_FOUND = 4404
# Positions from many phones are recorded in parallel: each is mostly waiting on the database, and
# the default thread-sensitive path would queue every driver of a worker behind one thread (about
# 35 positions/s on Postgres). Threads are created on demand; each keeps its own connection.
POSITION_THREADS = ThreadPoolExecutor(max_workers=3, thread_name_prefix="positions")
# Messages of many sockets recorded together, in one transaction (`PositionQueue`).
MAX_BATCH = 50
BATCHES_IN_FLIGHT = 2


class PositionQueue:
    """The positions of every driver socket on one event loop, recorded a batch at a time.

    A commit waits for the disk; at 1,000 drivers a worker would otherwise flush a hundred times a
    second. Messages that arrive while a batch is being recorded wait for the next one, and are
    all recorded in one transaction (`protocol.position_messages_receive`). Nothing waits on purpose:
    a lone message is recorded at once, batches only form under load. Each socket gets its own
    ack, after its batch is committed.
    """

    def __init__(self, record) -> None:
        self.record = record  # list of (driver, message) -> list of ack or exception, in order
        self.waiting: list[tuple[object, dict, asyncio.Future]] = []
        self.in_flight = 0

    async def receive(self, driver, message: dict) -> dict:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((driver, message, future))
        if self.in_flight < BATCHES_IN_FLIGHT:
            self.in_flight += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                try:
                    outcomes = await self.record([(driver, message) for driver, message, _future in batch])
                except Exception as error:  # the thread itself failed: every socket of the batch hears it
                    outcomes = [error] * len(batch)
                for (_driver, _message, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue  # the socket went away meanwhile
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self.in_flight -= 1


_QUEUES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PositionQueue]" = weakref.WeakKeyDictionary()


def position_queue() -> PositionQueue:
    loop = asyncio.get_running_loop()
    if loop not in _QUEUES:
        record = database_sync_to_async(position_messages_receive, thread_sensitive=False, executor=POSITION_THREADS)
        _QUEUES[loop] = PositionQueue(record)
    return _QUEUES[loop]


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


class ForwardingConsumer(AccessCheckedSocket, LiveConsumer):
    """Forwards its groups' events; a signed-in user's socket stops and closes when access ends."""

    groups_joined: tuple[str, ...] = ()

    async def join(self, *groups: str) -> None:
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        await self.access_released()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def board_event(self, event):
        if not self.access_closed:  # events queued behind the revocation never reach the page
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
    return TowerSnapshotSerializer(tower_snapshot(organization=organization, day=day)).data


def _day_from(scope) -> dt.date | None:
    values = parse_qs(scope.get("query_string", b"").decode()).get("date")
    try:
        return dt.date.fromisoformat(values[0]) if values else None
    except ValueError:
        return None


class ControlTowerConsumer(ForwardingConsumer):
    """`/ws/tower/`: every driver, ETA and exception of the signed-in user's organization."""

    access_roles = TOWER_ROLES

    async def connect(self):
        user = self.scope.get("user")
        organization = await _tower_organization(user)
        if organization is None:
            await self.close(code=refusal_code(user))
            return
        await self.access_granted(user=user, organization_id=organization.pk)
        await self.join(tower_group(organization.pk))
        await self.accept()
        await self.send_json(await _tower_snapshot(organization, _day_from(self.scope)))


@database_sync_to_async
def _order_for_token(token: str):
    return tracked_order(token=token)  # None for an unknown or expired link


@database_sync_to_async
def _tracking_snapshot(order):
    return TrackingSnapshotSerializer(tracking_snapshot(order)).data


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


class DriverConsumer(AccessCheckedSocket, LiveConsumer):
    """`/ws/driver/`: the driver's phone sends positions and gets an ack per message.

    A logged-out or deactivated driver's phone is closed (`accounts.sockets`), and its later
    positions are not recorded.
    """

    channel_layer_alias = None  # the phone only sends: it joins no group and needs no channel
    access_roles = frozenset({"driver"})
    driver = None

    async def connect(self):
        user = self.scope.get("user")
        find = database_sync_to_async(driver_for_user, thread_sensitive=False, executor=POSITION_THREADS)
        self.driver = await find(user)
        if self.driver is None:
            await self.close(code=refusal_code(user))
            return
        await self.access_granted(user=user, organization_id=self.driver.organization_id)
        await self.accept()

    async def disconnect(self, code):
        await self.access_released()

    def access_still_allowed(self, user) -> bool:
        return driver_for_user(user) is not None  # also an active driver profile

    async def receive_json(self, content, **kwargs):
        if self.access_closed:
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "invalid_message", "message": "Send a JSON object."})
        elif content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        elif content.get("type") in ("position", "positions"):
            ack = await position_queue().receive(self.driver, content)
            if not self.access_closed:  # revoked while its batch was being recorded
                await self.send_json(ack)
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "message": "Unknown message type."})

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # answered as an invalid message rather than closing the socket
