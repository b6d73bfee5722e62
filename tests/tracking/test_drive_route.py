"""`bench/drive_route.py` survives a server restart: it reconnects and every position is stored once."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.db import connection

from common import clock
from tests.workers import ROOT, wait_for
from tracking.models import DriverPosition

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_env() -> dict:
    """The test database and the test's clock, in embedded mode otherwise (no Redis, no worker)."""
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    return {
        **env,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "WAYPOINT_INPROCESS_WORKER": "0",
        "WAYPOINT_CLOCK_START": clock.now().isoformat(),
    }


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        + ["--lifespan", "off", "--log-level", "warning", "--ws", "websockets-sansio"],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/login/"), timeout=60), "the server did not start"
    return server


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_every_position_is_stored_exactly_once_across_a_server_restart(postgres, route, driver):
    """The server is killed mid-drive: positions queue up, are resent after the reconnect, none twice."""
    port = free_port()
    server = start_server(port)
    drive = subprocess.Popen(
        [sys.executable, "-m", "bench.drive_route", "--base-url", f"http://127.0.0.1:{port}"]
        + ["--username", "acme-driver", "--password", "pw-12345!", "--speed-kmh", "36", "--speedup", "100"]
        + ["--interval", "0.05", "--dwell", "0", "--max-seconds", "120"],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # when: the server dies once the drive is under way, and comes back on the same port
        assert wait_for(lambda: DriverPosition.objects.filter(driver=driver).count() >= 5, timeout=60)
        stop(server)
        server = start_server(port)
        output, _ = drive.communicate(timeout=120)
    finally:
        stop(drive)
        stop(server)

    # then
    assert drive.returncode == 0, output
    summary = re.search(r"Sent (\d+) positions: .* (\d+) unacknowledged; (\d+) reconnects", output)
    sent, unacknowledged, reconnects = (int(group) for group in summary.groups())
    assert (unacknowledged, reconnects >= 1) == (0, True), output
    stored = DriverPosition.objects.filter(driver=driver)
    assert stored.count() == sent
    assert stored.values("recorded_at").distinct().count() == sent
