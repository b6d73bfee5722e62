"""The one HTTP call to a receiver, bounded so that no receiver can hold or flood a worker.

Connect and read timeouts, a total deadline for the body, at most 64 KiB of it read (1 KiB kept
for the log), and redirects never followed: a 3xx counts as a failed attempt, so a public
receiver cannot bounce Waypoint onto an internal address.
"""

import threading
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from notifications.webhooks.addresses import refused_reason

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
# A receiver trickling its answer a byte at a time restarts the read timeout on every byte.
TOTAL_DEADLINE_S = 30.0
MAX_BODY_BYTES = 64 * 1024
EXCERPT_BYTES = 1024
USER_AGENT = "Waypoint-Webhooks/1"


class _PeerChecked:
    """Checks the address actually connected to: a name that resolved to a public address at the
    registration or the pre-send check may resolve to an internal one now (DNS rebinding)."""

    def _new_conn(self):
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        if reason := refused_reason(address):
            sock.close()
            raise NewConnectionError(self, f"Webhooks cannot be sent to private networks: {reason}")
        return sock


class _HTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _HTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


@dataclass(frozen=True)
class Answer:
    status: int | None
    body_excerpt: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


_local = threading.local()


def _session() -> requests.Session:
    """This thread's session: its connections to a receiver stay open between requests (keep-alive),
    which at hundreds of deliveries a second saves a TCP (and TLS) handshake each. Connections are
    checked once, when opened; a session is never shared between threads."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        # Proxies and credentials from the environment or ~/.netrc are not a receiver's business.
        session.trust_env = False
        for scheme in ("http://", "https://"):
            session.mount(scheme, _GuardedAdapter())
        _local.session = session
    return session


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    started = time.monotonic()
    session = _session()
    try:
        response = session.post(
            url,
            data=body,
            headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            allow_redirects=False,
            stream=True,
        )
    except requests.RequestException as error:
        return Answer(None, "", _describe(error), _elapsed_ms(started))
    try:
        content, error = _read_capped(response, started)
    finally:
        # A body read to its end has given the connection back for the next request; one cut
        # short (too long, too slow) closes it here.
        response.close()
    if error == "" and 300 <= response.status_code < 400:
        error = f"Redirect to {response.headers.get('location', '?')} not followed"
    excerpt = content[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return Answer(response.status_code, excerpt, error, _elapsed_ms(started))


def _read_capped(response: requests.Response, started: float) -> tuple[bytes, str]:
    content = b""
    try:
        for chunk in response.iter_content(chunk_size=8192):
            content += chunk
            if len(content) > MAX_BODY_BYTES:
                return content[:MAX_BODY_BYTES], ""  # the rest is not read: the status is what counts
            if time.monotonic() - started > TOTAL_DEADLINE_S:
                return content, f"The answer took longer than {TOTAL_DEADLINE_S:.0f} s"
    except requests.RequestException as error:
        return content, _describe(error)
    return content, ""


def _describe(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return f"Timed out: {error}"[:500]
    if isinstance(error, requests.ConnectionError):
        return f"Connection failed: {error}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
