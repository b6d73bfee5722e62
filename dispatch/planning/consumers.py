"""WebSocket consumers: authenticate, join groups, send a snapshot on connect, forward events."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.sockets import AccessCheckedSocket, refusal_code
from accounts.tenancy import actor_from_request_user
from common import clock
from common.realtime import board_group
from dispatch.network.selectors import hub_list
from dispatch.planning.selectors import board_plans
from dispatch.planning.serializers import BoardSnapshotSerializer

BOARD_ROLES = frozenset({"admin", "dispatcher", "viewer"})


@database_sync_to_async
def _board_access(user, hub_id: int):
    """The organization if `user` may watch hub `hub_id`'s board, else None."""
    actor = actor_from_request_user(user)
    if actor is None or actor.role not in BOARD_ROLES:
        return None
    if not hub_list(organization=actor.organization).filter(pk=hub_id).exists():
        return None
    return actor.organization


@database_sync_to_async
def _snapshot(organization, hub_id: int) -> dict:
    plans = board_plans(organization=organization, hub_id=hub_id, since=clock.now().date())
    return BoardSnapshotSerializer({"hub_id": hub_id, "plans": plans}).data


class DispatchBoardConsumer(AccessCheckedSocket, AsyncJsonWebsocketConsumer):
    """`/ws/hubs/<hub_id>/board/`: plan progress and changes of one hub, for its organization's staff."""

    access_roles = BOARD_ROLES
    group = None

    async def connect(self):
        hub_id = int(self.scope["url_route"]["kwargs"]["hub_id"])
        user = self.scope.get("user")
        organization = await _board_access(user, hub_id)
        if organization is None:
            await self.close(code=refusal_code(user))
            return
        await self.access_granted(user=user, organization_id=organization.pk)
        self.group = board_group(hub_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await _snapshot(organization, hub_id))

    async def disconnect(self, code):
        await self.access_released()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":  # keep-alive through proxies; nothing else is accepted
            await self.send_json({"type": "pong"})

    async def board_event(self, event):
        if not self.access_closed:  # events queued behind the revocation never reach the page
            await self.send_json(event["payload"])
