import datetime as dt
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
# Embedded mode has no beat: a timer thread of the in-process worker sends the beat schedule's
# entries instead, each at its own interval, so the background checks (silent and idle drivers,
# slot holds expiring, lost runs, the outbox's sweep, notifications and webhooks, the purges) run
# in the demo as they do in production. Every beat entry runs here unless it is listed in
# EMBEDDED_EXCLUDED with the reason; tests/test_embedded_schedule.py holds the two to the schedule.
EMBEDDED_EXCLUDED: dict[str, str] = {}


def embedded_schedule() -> dict[str, dict]:
    """The beat entries the embedded timer sends, by name."""
    return {name: entry for name, entry in app.conf.beat_schedule.items() if name not in EMBEDDED_EXCLUDED}


def interval_s(schedule) -> float:
    """An entry's interval in seconds: a number, a timedelta or Celery's `schedule(run_every=...)`.

    A crontab has no fixed interval; an entry using one needs its own rule here or an exclusion."""
    if isinstance(schedule, int | float):
        return float(schedule)
    every = getattr(schedule, "run_every", schedule)
    if isinstance(every, dt.timedelta):
        return every.total_seconds()
    raise TypeError(f"No fixed interval in {schedule!r}.")


class EmbeddedTimer:
    """Which entries are due at a monotonic moment: each runs at start-up, then every `schedule` seconds."""

    def __init__(self, entries: dict[str, dict]):
        self.entries = entries
        self.next_due = dict.fromkeys(entries, 0.0)

    def due(self, now: float) -> list[str]:
        names = [name for name, at in self.next_due.items() if at <= now]
        for name in names:
            # From now, not from when it was due: a timer that fell behind does not send bursts.
            self.next_due[name] = now + interval_s(self.entries[name]["schedule"])
        return names

    def wait_s(self, now: float) -> float:
        return max(0.0, min(self.next_due.values()) - now)


def _run_embedded_schedule() -> None:
    # First at start-up: runs the previous process left behind are lost with it.
    timer = EmbeddedTimer(embedded_schedule())
    while True:
        for name in timer.due(time.monotonic()):
            app.send_task(timer.entries[name]["task"])
        time.sleep(timer.wait_s(time.monotonic()))


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

    `with_schedule` also runs `embedded_schedule()` (the embedded mode's stand-in for beat); tests
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
