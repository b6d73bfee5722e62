"""Background work runs off the request thread in both modes: an in-process worker thread on the
memory broker (embedded), and a real Celery worker process on Redis (production)."""

import datetime as dt

import pytest

from common import events
from common.models import IdempotencyRecord, OutboxEvent
from common.tasks import idempotency_purge_task
from tests.workers import celery_worker_process, wait_for


def _expired_record(organization, key="old"):
    return IdempotencyRecord.objects.create(
        organization=organization,
        key=key,
        method="POST",
        path="/api/orders",
        request_hash="x",
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30),
    )


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


@pytest.mark.django_db(transaction=True)
def test_inprocess_worker_delivers_domain_events(monkeypatch):
    """Embedded mode: a publisher outside any transaction commits its event; the worker thread delivers it."""
    from celery import _state

    from config.celery import app, start_inprocess_worker

    seen = []
    monkeypatch.setitem(events._subscribers, "thing_happened", [])
    events.subscribe("thing_happened", seen.append)
    app.conf.task_always_eager = False
    start_inprocess_worker()
    try:
        events.publish_on_commit("thing_happened", {"n": 1})

        assert wait_for(lambda: not OutboxEvent.objects.filter(delivered_at__isnull=True).exists(), timeout=30)
    finally:
        _state._set_task_join_will_block(False)
    assert seen == [{"n": 1}]
    assert OutboxEvent.objects.get().delivered_at is not None


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_real_celery_worker_on_redis_runs_tasks(postgres, redis_url, organization, settings):
    """The production path: a separate `celery worker` process, Redis broker, shared Postgres."""
    from celery import Celery

    worker, queue = celery_worker_process(redis_url)
    _expired_record(organization)
    producer = Celery("test-producer", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        result = producer.send_task("common.tasks.idempotency_purge_task", queue=queue)
        assert result.get(timeout=60, disable_sync_subtasks=False) == 1
        assert IdempotencyRecord.objects.count() == 0
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
        producer.close()
    assert "Traceback" not in output, output
