"""Open sockets lose their rights with their user: logout, deactivation, a role or organization change.

4401: not signed in any more (the page goes to the login form); 4403: signed in, but this socket is
no longer allowed (the page says so). Both the embedded in-memory layer and channels-redis.
"""

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from accounts.models import User
from config.asgi import application
from tests.layers import REDIS_PUBSUB, channel_layer_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(params=["memory", "redis"], autouse=True)
def channel_layer(request, settings):
    """Both modes: the embedded in-memory layer and channels-redis's pub/sub layer (production's)."""
    redis_url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    with channel_layer_of(settings, request.param, redis_url=redis_url, redis_backend=REDIS_PUBSUB) as mode:
        yield mode


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def open_socket(path: str, client: Client) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie)]
    comm = WebsocketCommunicator(application, path, headers=headers)
    accepted, _ = await comm.connect(timeout=5)
    assert accepted, path
    if path != "/ws/driver/":
        assert (await comm.receive_json_from(timeout=5))["type"] in ("snapshot", "board.snapshot")
    return comm


async def closed_with(comm: WebsocketCommunicator) -> int:
    output = await comm.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output["code"]


@database_sync_to_async
def update_user(user, **fields) -> None:
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()


async def test_a_deactivated_viewer_s_tower_closes_with_4401(viewer_user):
    tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(viewer_user))

    await update_user(viewer_user, is_active=False)

    assert await closed_with(tower) == 4401


async def test_a_deactivated_driver_s_phone_closes_with_4401(driver_user, driver):
    phone = await open_socket("/ws/driver/", await database_sync_to_async(signed_in)(driver_user))

    await update_user(driver_user, is_active=False)

    assert await closed_with(phone) == 4401


async def test_deactivating_one_user_leaves_another_user_s_sockets_open(viewer_user, dispatcher_user):
    viewer_tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(viewer_user))
    dispatcher_tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(dispatcher_user))

    await update_user(viewer_user, is_active=False)

    assert await closed_with(viewer_tower) == 4401
    assert await dispatcher_tower.receive_nothing(timeout=0.5)
    await dispatcher_tower.disconnect()


async def test_logging_out_closes_that_session_s_sockets_only(driver_user, driver):
    laptop = await database_sync_to_async(signed_in)(driver_user)
    phone_session = await database_sync_to_async(signed_in)(driver_user)
    on_laptop = await open_socket("/ws/driver/", laptop)
    on_phone = await open_socket("/ws/driver/", phone_session)

    response = await database_sync_to_async(laptop.post)("/logout/")

    assert response.status_code == 302
    assert await closed_with(on_laptop) == 4401
    assert await on_phone.receive_nothing(timeout=0.5)
    await on_phone.disconnect()


async def test_deleting_a_session_closes_its_sockets_at_once(driver_user, driver):
    """As the admin or a script deleting one session row would: no re-check needed."""
    from django.contrib.sessions.models import Session

    client = await database_sync_to_async(signed_in)(driver_user)
    phone = await open_socket("/ws/driver/", client)

    session = Session.objects.filter(pk=client.cookies["sessionid"].value)
    await database_sync_to_async(lambda: session.get().delete())()

    assert await closed_with(phone) == 4401


async def test_a_driver_made_viewer_loses_the_driver_socket_with_4403(driver_user, driver):
    phone = await open_socket("/ws/driver/", await database_sync_to_async(signed_in)(driver_user))

    await update_user(driver_user, role="viewer")

    assert await closed_with(phone) == 4403


async def test_a_role_that_still_allows_the_tower_keeps_it_open(dispatcher_user):
    """A dispatcher made viewer may still watch the tower: the socket stays."""
    tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(dispatcher_user))

    await update_user(dispatcher_user, role="viewer")

    assert await tower.receive_nothing(timeout=0.5)
    await tower.disconnect()


async def test_a_viewer_moved_to_another_organization_loses_the_old_tower_with_4403(viewer_user, other_organization):
    tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(viewer_user))

    await update_user(viewer_user, organization=other_organization)

    assert await closed_with(tower) == 4403


async def test_a_viewer_removed_from_the_organization_loses_the_board_with_4403(viewer_user, hub):
    board = await open_socket(f"/ws/hubs/{hub.pk}/board/", await database_sync_to_async(signed_in)(viewer_user))

    await update_user(viewer_user, organization=None)

    assert await closed_with(board) == 4403


async def test_a_rolled_back_deactivation_closes_nothing(viewer_user):
    tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(viewer_user))

    @database_sync_to_async
    def deactivate_then_roll_back():
        with transaction.atomic():
            viewer_user.is_active = False
            viewer_user.save()
            transaction.set_rollback(True)

    await deactivate_then_roll_back()

    assert await tower.receive_nothing(timeout=0.5)
    await tower.disconnect()


async def test_the_periodic_recheck_closes_a_socket_whose_user_was_deactivated_without_signals(
    viewer_user, time_machine, settings
):
    """A queryset update sends no signal: the re-check, due after WAYPOINT_SOCKET_RECHECK_SECONDS, closes it."""
    settings.WAYPOINT_SOCKET_RECHECK_SECONDS = 60
    tower = await open_socket("/ws/tower/", await database_sync_to_async(signed_in)(viewer_user))

    await database_sync_to_async(User.objects.filter(pk=viewer_user.pk).update)(is_active=False)
    still_open = await tower.receive_nothing(timeout=1.5)  # a re-check tick passes; not yet due
    time_machine.shift(dt.timedelta(seconds=61))

    assert still_open
    assert await closed_with(tower) == 4401


async def test_the_periodic_recheck_closes_a_socket_whose_session_was_deleted(driver_user, driver, time_machine):
    from django.contrib.sessions.models import Session

    client = await database_sync_to_async(signed_in)(driver_user)
    phone = await open_socket("/ws/driver/", client)

    # A bulk delete (as a script would) sends no per-row signal.
    await database_sync_to_async(Session.objects.all()._raw_delete)("default")
    time_machine.shift(dt.timedelta(seconds=61))

    assert await closed_with(phone) == 4401
