"""Open WebSockets lose their rights with the session that opened them.

A socket is authenticated once, at connect; without this, a logged-out or deactivated user's
socket would keep its access for as long as it stays open. `AccessCheckedSocket` records who
connected (user, session, role, organization). `accounts.revocation` announces logouts,
deactivations and role or membership changes after they commit, to one group that every process
listens to (`common.realtime.access_group`); each process hands a message to its own sockets of
that user. One listener per process rather than a group per user: revocations are rare, and a
channel-layer subscription for each of 1,000 driver phones made connecting and shutting down
slow (docs/benchmarks.md). A periodic re-check (WAYPOINT_SOCKET_RECHECK_SECONDS) is the backstop
for changes made without signals: a queryset update, an expired or deleted session, a change in
another process of the embedded mode (whose channel layer is in-process).

Close codes, which the pages understand (static/common/access.js):
4401 not signed in any more (logout, deactivation, session ended): go to the login page;
4403 signed in, but the role or organization no longer allows this socket: say so, stop.
"""

import asyncio
import datetime as dt
import hashlib
import logging
import random
import weakref
from importlib import import_module

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.utils.crypto import constant_time_compare

from common import clock
from common.realtime import access_group

logger = logging.getLogger(__name__)
NOT_AUTHENTICATED = 4401
FORBIDDEN = 4403
# How often the re-check schedule looks for sockets that are due; each socket is re-checked only
# every WAYPOINT_SOCKET_RECHECK_SECONDS (by `common.clock`, so tests move time instead of waiting).
SCHEDULE_TICK_S = 1.0


def session_fingerprint(session_key: str | None) -> str | None:
    """A session's name in published messages: the key itself is a credential and stays here."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:24] if session_key else None


def refusal_code(user) -> int:
    """The close code for a socket refused at connect."""
    return FORBIDDEN if getattr(user, "is_authenticated", False) else NOT_AUTHENTICATED


def session_user(session_key: str | None, user_id: int):
    """The user `session_key` still signs in, if it is user `user_id`, else None.

    The same checks as `django.contrib.auth.get_user` on a request (the session exists and has not
    expired, the backend still returns the user, so an inactive one fails, and the password hash
    still matches), without its side effects: it never flushes or cycles the session.
    """
    if session_key is None:
        return None
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    backend_path = data.get(BACKEND_SESSION_KEY)
    if data.get(SESSION_KEY) != str(user_id) or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_id)
    session_hash = data.get(HASH_SESSION_KEY)
    if user is None or not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return user if any(constant_time_compare(session_hash, known) for known in hashes) else None


class AccessCheckedSocket:
    """Mixin for a channels consumer whose access depends on the signed-in user.

    Call `access_granted` once the socket is allowed (before `accept`), `access_released` on
    disconnect. `access_roles` lists the roles the socket is for; `access_still_allowed(user)`
    may add a check of its own (run in a database thread, given the freshly loaded user).
    """

    access_roles: frozenset[str] = frozenset()
    access_user_id: int | None = None
    access_closed = False

    async def access_granted(self, *, user, organization_id: int) -> None:
        session = self.scope.get("session")
        self.access_user_id = user.pk
        self.access_session_key = getattr(session, "session_key", None)
        self.access_role = user.role
        self.access_organization_id = organization_id
        # The first re-check somewhere in the next interval: sockets that reconnected together
        # after a restart would otherwise all be re-checked in the same second, every interval.
        self.access_next_check = clock.now() + _recheck_interval() * random.uniform(0.5, 1.0)
        await _sockets().add(self)

    async def access_released(self) -> None:
        if self.access_user_id is not None:
            _sockets().discard(self)

    def access_still_allowed(self, user) -> bool:
        return True

    async def access_close(self, code: int) -> None:
        """Stop forwarding at once and close; later events and messages are dropped."""
        if self.access_closed:
            return
        self.access_closed = True
        await self.close(code=code)

    # --- messages from `accounts.revocation` ---------------------------------------------------

    async def access_revoked(self, event):
        """Logout, deactivation, deletion: all of the user's sockets, or one session's."""
        session = event.get("session")
        if session is None or session == session_fingerprint(self.access_session_key):
            await self.access_close(NOT_AUTHENTICATED)

    async def access_changed(self, event):
        """A new role or organization: close unless this socket is still allowed with them."""
        if event.get("organization_id") != self.access_organization_id or event.get("role") not in self.access_roles:
            await self.access_close(FORBIDDEN)
        else:
            self.access_role = event["role"]

    # --- the periodic re-check -------------------------------------------------------------------

    async def access_recheck(self) -> None:
        try:
            code = await database_sync_to_async(self._access_code_now)()
        except Exception:
            # A database outage must not close every socket at once; the next re-check decides.
            logger.exception("Re-checking the access of user %s's socket failed", self.access_user_id)
            return
        if code is not None:
            await self.access_close(code)

    def _access_code_now(self) -> int | None:
        user = session_user(self.access_session_key, self.access_user_id)
        if user is None:
            return NOT_AUTHENTICATED
        if user.organization_id != self.access_organization_id or user.role not in self.access_roles:
            return FORBIDDEN
        return None if self.access_still_allowed(user) else FORBIDDEN


def _recheck_interval() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WAYPOINT_SOCKET_RECHECK_SECONDS)


class _LoopSockets:
    """The access-checked sockets of one event loop, by user, with one listener and one timer for all.

    The listener receives the access group's messages and hands each to the sockets of its user;
    the timer re-checks each socket when due. Both run while the loop has sockets.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.by_user: dict[int, set[AccessCheckedSocket]] = {}
        self.tasks: list[asyncio.Task] = []
        self.listening = asyncio.Event()
        self.running: set[asyncio.Task] = set()  # a task nobody references may be collected mid-run

    async def add(self, socket: AccessCheckedSocket) -> None:
        """Returns once the listener has joined the group: a change from then on reaches `socket`."""
        self.by_user.setdefault(socket.access_user_id, set()).add(socket)
        if not self.tasks:
            self.listening = asyncio.Event()
            self.tasks = [self.loop.create_task(self._listen()), self.loop.create_task(self._recheck())]
        elif self.tasks[0].done():  # the listener stopped on an error (Redis away): try again
            self.listening = asyncio.Event()
            self.tasks[0] = self.loop.create_task(self._listen())
        await self.listening.wait()

    def discard(self, socket: AccessCheckedSocket) -> None:
        sockets = self.by_user.get(socket.access_user_id, set())
        sockets.discard(socket)
        if not sockets:
            self.by_user.pop(socket.access_user_id, None)
        if not self.by_user:
            tasks, self.tasks = self.tasks, []
            for task in tasks:
                task.cancel()

    def _start(self, coroutine) -> None:
        task = self.loop.create_task(coroutine)
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _listen(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            self.listening.set()
            return
        try:
            channel = await layer.new_channel()
            joined_at = None
            while True:
                # Redis's core layer forgets a group member after a day (`group_expiry`): rejoin hourly.
                if joined_at is None or self.loop.time() - joined_at > 3600:
                    await layer.group_add(access_group(), channel)
                    joined_at = self.loop.time()
                    self.listening.set()
                message = await layer.receive(channel)
                for socket in list(self.by_user.get(message.get("user_id"), ())):
                    handler = getattr(socket, get_handler_name(message), None)
                    if handler is not None:
                        self._start(handler(message))
        except asyncio.CancelledError:
            if self.listening.is_set():
                await layer.group_discard(access_group(), channel)
            raise
        except Exception:
            # Without the listener only the re-check closes sockets: say so loudly, keep serving.
            logger.exception("The socket access listener stopped")
        finally:
            self.listening.set()  # sockets waiting for it are served either way

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(SCHEDULE_TICK_S)
            now = clock.now()
            for sockets in list(self.by_user.values()):
                for socket in list(sockets):
                    if not socket.access_closed and socket.access_next_check <= now:
                        socket.access_next_check = now + _recheck_interval()
                        self._start(socket.access_recheck())


_LOOPS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSockets]" = weakref.WeakKeyDictionary()


def _sockets() -> _LoopSockets:
    loop = asyncio.get_running_loop()
    if loop not in _LOOPS:
        _LOOPS[loop] = _LoopSockets(loop)
    return _LOOPS[loop]
