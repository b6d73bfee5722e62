"""A real `uvicorn` server process (several workers) on the test database, for the tests whose
behaviour depends on production shape: connections held per process, Redis going away."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from common import clock

ROOT = Path(__file__).resolve().parent.parent
# libpq tags every connection the server opens, so pg_stat_activity can count exactly those.
SERVER_APPLICATION_NAME = "waypoint-test-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def current_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def uvicorn_server(*, workers: int = 2, redis_url: str = "", env: dict[str, str] | None = None, log=None):
    """Serve `config.asgi:application` on a free port; yields its base URL and stops it after.

    The server's output goes to `log` (a file), or to a temporary file shown if it fails to start:
    a pipe nobody reads would block the server once full.
    """
    port = free_port()
    server_env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": redis_url,
        "WAYPOINT_INPROCESS_WORKER": "0",
        "PGAPPNAME": SERVER_APPLICATION_NAME,
        # The server reads the same (pinned) clock as the test that starts it.
        "WAYPOINT_CLOCK_START": clock.now().isoformat(),
        **(env or {}),
    }
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--lifespan", "off", "--log-level", "warning"]
    with tempfile.TemporaryFile() as scratch:
        output = log or scratch
        process = subprocess.Popen(command, cwd=ROOT, env=server_env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            if not _wait_until_serving(url, process):
                output.seek(0)
                raise RuntimeError(f"uvicorn did not start on {url}\n{output.read().decode(errors='replace')}")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=5)
            return True
        except urllib.error.HTTPError:
            return True  # answering at all (503 while Redis is down) is serving
        except OSError:
            time.sleep(0.2)
    return False


def server_connections() -> int:
    """Connections the server processes hold on the test database right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [SERVER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]
