"""Three queues: optimisation solves on `optimize`, webhook sends on `webhooks`, everything else on
`live`, each with its own workers, so neither a long solve nor a slow receiver delays live work
(in production and in the embedded mode)."""

import pytest
from kombu import Producer

from common.models import OutboxEvent
from common.tasks import idempotency_purge_task
from config.celery import app
from dispatch.models.jobs import JobStatus, OptimizationJob
from tests.dispatch.optimize.test_optimize_api import problem
from tests.workers import wait_for

OPTIMIZE_TASKS = ["dispatch.optimize.tasks.optimization_job_run_task", "dispatch.planning.tasks.plan_optimize_task"]
WEBHOOK_TASKS = ["notifications.webhooks.tasks.webhook_endpoint_send_task"]
LONG_JOB = "/api/optimize?budget=300&mode=async"


def routed_queue(task_name: str, **options) -> str:
    """The queue Celery's own router picks when the task is sent."""
    return app.amqp.router.route(options, task_name)["queue"].name


def project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


@pytest.mark.parametrize("task_name", OPTIMIZE_TASKS)
def test_optimisation_tasks_go_to_the_optimize_queue(task_name):
    assert routed_queue(task_name) == "optimize"


@pytest.mark.parametrize(
    "task_name",
    [
        "common.tasks.events_deliver_task",  # the outbox: urgent insertions, webhooks, notifications
        "common.tasks.events_sweep_task",
        "tracking.tasks.detect_silent_and_idle_drivers_task",
        "dispatch.slots.tasks.slot_holds_expire_task",
        "dispatch.optimize.tasks.optimization_jobs_sweep_stale_task",  # cheap: must not wait behind solves
        "dispatch.planning.tasks.plan_sweep_stale_task",
    ],
)
def test_live_tasks_go_to_the_live_queue(task_name):
    assert routed_queue(task_name) == "live"


def test_webhook_sends_go_to_the_webhooks_queue_and_their_sweep_stays_live():
    assert routed_queue(WEBHOOK_TASKS[0]) == "webhooks"
    # The sweep only reads and enqueues: it must not wait behind slow receivers.
    assert routed_queue("notifications.webhooks.tasks.webhook_deliveries_sweep_task") == "live"


def test_every_registered_task_but_the_solves_and_webhook_sends_is_live():
    queues = {name: routed_queue(name) for name in project_tasks()}

    assert sorted(name for name, queue in queues.items() if queue == "optimize") == OPTIMIZE_TASKS
    assert sorted(name for name, queue in queues.items() if queue == "webhooks") == WEBHOOK_TASKS
    assert set(queues.values()) == {"live", "optimize", "webhooks"}
    assert len(queues) > 10


def test_the_prefix_is_read_when_a_task_is_sent(settings):
    """Tests run isolated workers on a shared Redis by prefixing every queue name."""
    settings.WAYPOINT_QUEUE_PREFIX = "t1-"

    assert routed_queue(OPTIMIZE_TASKS[0]) == "t1-optimize"
    assert routed_queue("common.tasks.events_deliver_task") == "t1-live"


def test_an_explicit_queue_still_wins():
    assert routed_queue(OPTIMIZE_TASKS[0], queue="elsewhere") == "elsewhere"


def test_a_job_posted_to_the_api_is_sent_to_the_optimize_queue(
    merchant_client, django_capture_on_commit_callbacks, monkeypatch
):
    app.conf.task_always_eager = False
    sent = []
    # What leaves this process, recorded at kombu's producer (not the project's code).
    monkeypatch.setattr(
        Producer,
        "publish",
        lambda self, body, *a, routing_key=None, **kw: sent.append((kw["headers"]["task"], routing_key)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(LONG_JOB, problem(), format="json")

    assert response.status_code == 202
    assert sent == [("dispatch.optimize.tasks.optimization_job_run_task", "optimize")]


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_runs_live_tasks_while_a_long_solve_runs(merchant_client):
    """The in-process workers: one per queue, so the demo's live work never waits behind a solve."""
    from celery import _state

    from config.celery import start_inprocess_worker

    app.conf.task_always_eager = False
    start_inprocess_worker()
    try:
        # given: a 300-s job running on the in-process optimize worker
        job_id = merchant_client.post(LONG_JOB, problem(n_jobs=40, capacity=40), format="json").json()["id"]
        assert wait_for(lambda: OptimizationJob.objects.get(pk=job_id).status == JobStatus.RUNNING, timeout=60)

        # when: a live task is sent
        result = idempotency_purge_task.delay()

        # then: it completes while the solve is still running
        assert result.get(timeout=60, disable_sync_subtasks=False) == 0
        assert OptimizationJob.objects.get(pk=job_id).status == JobStatus.RUNNING
    finally:
        OptimizationJob.objects.filter(pk=job_id).update(cancel_requested=True)
        # The solve ends at its next check; the test ends once its events are delivered, so that
        # the database is not emptied under the worker threads.
        assert wait_for(lambda: OptimizationJob.objects.get(pk=job_id).status == JobStatus.CANCELLED, timeout=60)
        assert wait_for(lambda: not OutboxEvent.objects.filter(delivered_at__isnull=True).exists(), timeout=60)
        _state._set_task_join_will_block(False)


def test_the_inprocess_workers_consume_one_queue_each():
    from config.celery import _inprocess_workers, start_inprocess_worker

    start_inprocess_worker()

    consumed = [sorted(worker.app.amqp.queues.consume_from) for worker in _inprocess_workers]
    assert consumed == [["live"], ["optimize"], ["webhooks"]]
    assert _inprocess_workers[0].app is app
