"""The dispatch board WebSocket: staff of the hub's organization only, a snapshot on connect, pushes."""

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import user_create
from common.realtime import board_publish
from config.asgi import application
from dispatch.models import Hub
from tests.factories.fleet import DAY, PlanFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
HEADERS = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


async def connect(user, hub_id):
    communicator = WebsocketCommunicator(application, f"/ws/hubs/{hub_id}/board/", headers=HEADERS)
    if user is not None:
        communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.fixture
def board(hub, dispatcher_user):
    plan = PlanFactory(hub=hub, date=DAY)
    return hub, dispatcher_user, plan


async def test_dispatcher_gets_a_snapshot_then_pushed_progress(board, monkeypatch):
    hub, user, plan = board
    monkeypatch.setattr("dispatch.planning.consumers.clock.now", lambda: dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    communicator, connected, _ = await connect(user, hub.pk)

    snapshot = await communicator.receive_json_from(timeout=5)
    await sync_to_async(board_publish)(hub.pk, {"type": "plan.progress", "plan_id": plan.pk, "progress_pct": 40})
    pushed = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()

    assert connected
    assert snapshot["type"] == "board.snapshot"
    assert [(p["id"], p["status"], p["version"]) for p in snapshot["plans"]] == [(plan.pk, "draft", 1)]
    assert pushed == {"type": "plan.progress", "plan_id": plan.pk, "progress_pct": 40}


async def test_anonymous_users_are_refused(board):
    """Not signed in: 4401, which sends the page to the login form."""
    hub, _, _ = board

    communicator, connected, code = await connect(None, hub.pk)

    assert (connected, code) == (False, 4401)


async def test_other_organizations_and_drivers_are_refused(board, other_organization, driver_user):
    hub, _, _ = board
    outsider = await sync_to_async(user_create)(
        organization=other_organization, username="spy", password="pw-12345!", role="admin"
    )
    other_hub = await sync_to_async(Hub.objects.create)(
        organization=other_organization, code="x", name="X", address="X", lat=60, lng=25
    )

    results = [await connect(outsider, hub.pk), await connect(driver_user, hub.pk)]
    own_hub_only = await connect(outsider, other_hub.pk)
    await own_hub_only[0].disconnect()

    assert [r[1:] for r in results] == [(False, 4403), (False, 4403)]
    assert own_hub_only[1] is True


async def test_pushes_of_another_hub_do_not_arrive(board, organization):
    hub, user, _ = board
    other = await sync_to_async(Hub.objects.create)(
        organization=organization, code="h2", name="H2", address="Y", lat=60, lng=25
    )
    communicator, _, _ = await connect(user, hub.pk)
    await communicator.receive_json_from(timeout=5)

    await sync_to_async(board_publish)(other.pk, {"type": "plan.progress", "plan_id": 0})

    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()
