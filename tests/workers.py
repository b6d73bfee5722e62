"""A real `celery worker` process for the tests whose behaviour depends on one (Redis broker, the test database)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from common import clock

ROOT = Path(__file__).resolve().parent.parent


def celery_worker_process(redis_url: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start a solo worker on its own queue against the test database; returns (process, queue).

    `env` adds to or overrides the worker's environment (settings read from it).
    """
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WAYPOINT_INPROCESS_WORKER": "0",
        # The worker reads the same (pinned) clock as the test that starts it.
        "WAYPOINT_CLOCK_START": clock.now().isoformat(),
        **(env or {}),
    }
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return worker, queue


def wait_for(predicate, timeout=60.0) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
