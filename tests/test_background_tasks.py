"""Background work runs off the request thread in both modes: an in-process worker thread on the
memory broker (embedded), and a real Celery worker process on Redis (production)."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.models import IdempotencyRecord
from common.tasks import idempotency_purge_task

ROOT = Path(__file__).resolve().parent.parent


def _expired_record(organization, key="old"):
    return IdempotencyRecord.objects.create(
        organization=organization, key=key, method="POST", path="/api/orders", request_hash="x",
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_inprocess_worker_runs_tasks_from_the_memory_broker(organization):
    from config.celery import app, start_inprocess_worker

    _expired_record(organization)
    app.conf.task_always_eager = False
    start_inprocess_worker()

    result = idempotency_purge_task.delay()

    # The worker thread marks this process as a worker; waiting on a result here is the test's own doing.
    assert result.get(timeout=30, disable_sync_subtasks=False) == 1
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_real_celery_worker_on_redis_runs_tasks(postgres, redis_url, organization, settings):
    """The production path: a separate `celery worker` process, Redis broker, shared Postgres."""
    from celery import Celery
    from django.db import connection

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "WAYPOINT_INPROCESS_WORKER": "0"}
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    _expired_record(organization)
    producer = Celery("test-producer", broker=redis_url, backend=redis_url)
    try:
        result = producer.send_task("common.tasks.idempotency_purge_task", queue=queue)
        assert result.get(timeout=60, disable_sync_subtasks=False) == 1
        assert IdempotencyRecord.objects.count() == 0
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
        producer.close()
    assert "Traceback" not in output, output
