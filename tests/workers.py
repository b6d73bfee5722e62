"""A real `celery worker` process for the tests whose behaviour depends on one (Redis broker, the test database)."""

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from common import clock
from common.heartbeat import stale_after_s

ROOT = Path(__file__).resolve().parent.parent


def celery_worker_process(
    redis_url: str, *, queues: list[str] | None = None, prefix: str | None = None, env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """Start a solo worker against the test database; returns (process, queue or prefix).

    Without `queues` it consumes one queue of its own, returned, for tasks sent with `queue=`.
    With `queues` (logical names: "live", "optimize") it runs with WAYPOINT_QUEUE_PREFIX set to
    `prefix` (a fresh one by default) and consumes those queues under it; the prefix is returned,
    for the test to set as `settings.WAYPOINT_QUEUE_PREFIX` so that its own sends reach the worker.
    `env` is merged last into the worker's environment.
    """
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    unique = f"test-{os.getpid()}-{time.monotonic_ns()}"
    if queues is None:
        name, consumed, prefix = unique, [unique], prefix or ""
    else:
        prefix = f"{unique}-" if prefix is None else prefix
        name, consumed = prefix, [f"{prefix}{queue}" for queue in queues]
    worker_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WAYPOINT_INPROCESS_WORKER": "0",
        "WAYPOINT_QUEUE_PREFIX": prefix,
        # The worker reads the same (pinned) clock as the test that starts it.
        "WAYPOINT_CLOCK_START": clock.now().isoformat(),
        **(env or {}),
    }
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
            ",".join(consumed),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return worker, name


@contextlib.contextmanager
def project_app_sending_to(broker_url: str):
    """The project's Celery app sends (not eagerly) through `broker_url` for the block.

    For tests whose own code path (an API call, a service) must reach a worker started by
    `celery_worker_process`: the app's broker is REDIS_URL (or memory), the worker's TEST_REDIS_URL.
    """
    from config.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager

    def reset_pools():
        # Both pools are built on first use from the broker URL of that moment.
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url, app.conf.task_always_eager = broker_url, False
    reset_pools()
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        reset_pools()


def wait_for(predicate, timeout=60.0) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def worker_with_producer(redis_url: str, *, env: dict | None = None):
    """A worker of its own queue, and a producer sending it tasks: yields (worker, queue, producer).

    The worker is killed at the end if still running (its output drained), the producer closed.
    """
    from celery import Celery

    worker, queue = celery_worker_process(redis_url, env=env)
    producer = Celery("test-producer", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        yield worker, queue, producer
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate(timeout=30)
        producer.close()


def kill_mid_task(worker: subprocess.Popen) -> None:
    """SIGKILL, as the kernel's OOM killer or a lost machine would: no clean-up runs in the worker."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)


def swept_exactly_at_the_bound(sweep, *, last_beat: dt.datetime, pk: int) -> bool:
    """`sweep(now=...)` leaves the row alone one second before the stale bound and fails it one after."""
    bound = dt.timedelta(seconds=stale_after_s())
    return sweep(now=last_beat + bound - dt.timedelta(seconds=1)) == [] and sweep(
        now=last_beat + bound + dt.timedelta(seconds=1)
    ) == [pk]
