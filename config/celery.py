import os
import threading
import time

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

LIVE_QUEUE = "live"
OPTIMIZE_QUEUE = "optimize"
# Merchants' receivers answer as slowly as they like (up to the client's timeouts): their sends
# have workers of their own, so a slow receiver delays other webhooks at worst, never live work.
WEBHOOKS_QUEUE = "webhooks"

app = Celery("waypoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_inprocess_lock = threading.Lock()
_inprocess_workers: list = []
# Embedded mode has no beat; these entries of the beat schedule run on a timer thread instead, so a
# solve whose worker thread died is failed within the same bound as in production (README).
EMBEDDED_SCHEDULE = (
    "plans-sweep-stale",
    "optimization-jobs-sweep-stale",
    # Webhook retries and customer messages (after quiet hours, retries, lost tasks; "arriving
    # soon", webhooks' debounced ETA changes) go out in the demo too.
    "webhook-deliveries-sweep",
    "notification-messages-sweep",
    "notification-arriving-soon",
    "webhook-eta-changes",
)


def _run_embedded_schedule() -> None:
    entries = [app.conf.beat_schedule[name] for name in EMBEDDED_SCHEDULE]
    every_s = min(float(entry["schedule"]) for entry in entries)
    while True:  # first at start-up: runs the previous process left behind are lost with it
        for entry in entries:
            app.send_task(entry["task"])
        time.sleep(every_s)


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: optimisation solves to `optimize`, webhook sends to `webhooks`, the rest to `live`.

    A function rather than a mapping so that WAYPOINT_QUEUE_PREFIX is read when a task is sent,
    not frozen into Celery's router when it is first built. A `queue=` given to `apply_async`
    still wins over this answer.
    """
    from django.conf import settings

    if name in settings.WAYPOINT_OPTIMIZE_TASKS:
        queue = OPTIMIZE_QUEUE
    elif name in settings.WAYPOINT_WEBHOOK_TASKS:
        queue = WEBHOOKS_QUEUE
    else:
        queue = LIVE_QUEUE
    return {"queue": queue_name(queue)}


def queue_name(queue: str) -> str:
    from django.conf import settings

    return f"{settings.WAYPOINT_QUEUE_PREFIX}{queue}"


def start_inprocess_worker(*, with_schedule: bool = False):
    """Run Celery workers on daemon threads of this process (embedded mode only): one per queue.

    `with_schedule` also runs `EMBEDDED_SCHEDULE` (the embedded mode's stand-in for beat); tests
    that borrow the worker thread leave it off, so no sweep runs under their data.

    WorkController installs no signal handlers, so unlike `app.Worker` it can run off the main
    thread. With the memory broker only this process's producers reach it, which is the point.
    A second worker consumes `optimize`, so a long solve in the demo never blocks live work, and a
    third `webhooks`, so a slow receiver never does either. Each needs an app of its own: a
    worker's queue selection is stored on its app (`app.amqp.queues`), and two workers sharing one
    app would each consume whichever queue was selected last. The memory broker's queues are
    shared by every app of the process.
    """
    with _inprocess_lock:
        if _inprocess_workers:
            return _inprocess_workers[0]
        for queue in (LIVE_QUEUE, OPTIMIZE_QUEUE, WEBHOOKS_QUEUE):
            worker = _inprocess_worker(app if queue == LIVE_QUEUE else _app_of_its_own(queue), queue_name(queue))
            threading.Thread(target=worker.start, name=f"celery-inprocess-{queue}", daemon=True).start()
            _inprocess_workers.append(worker)
        if with_schedule:
            threading.Thread(target=_run_embedded_schedule, name="celery-inprocess-schedule", daemon=True).start()
        # Embedded mode has no beat and its memory broker died with the previous process: events
        # that process committed but never delivered are this worker's to deliver, whatever their age.
        from common.tasks import events_sweep_task

        events_sweep_task.delay(0)
        return _inprocess_workers[0]


def _app_of_its_own(queue: str) -> Celery:
    worker_app = Celery(f"waypoint-{queue}", set_as_current=False)
    worker_app.config_from_object("django.conf:settings", namespace="CELERY")
    worker_app.autodiscover_tasks()
    return worker_app


def _inprocess_worker(worker_app: Celery, queue: str):
    from celery.worker import WorkController

    return WorkController(
        app=worker_app,
        queues=[queue],
        hostname=f"{queue}@inprocess-{os.getpid()}",
        pool="solo",
        concurrency=1,
        # kombu's event loop is one per process (a module global): with a Redis broker, two workers'
        # loops replace each other and one stops consuming. The synchronous loop suits a thread.
        use_eventloop=False,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel="INFO",
    )
