import os
import threading
import time

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("waypoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_inprocess_lock = threading.Lock()
_inprocess_worker = None
# Embedded mode has no beat; these entries of the beat schedule run on a timer thread instead, so a
# solve whose worker thread died is failed within the same bound as in production (README).
EMBEDDED_SCHEDULE = ("plans-sweep-stale", "optimization-jobs-sweep-stale")


def _run_embedded_schedule() -> None:
    entries = [app.conf.beat_schedule[name] for name in EMBEDDED_SCHEDULE]
    every_s = min(float(entry["schedule"]) for entry in entries)
    while True:  # first at start-up: runs the previous process left behind are lost with it
        for entry in entries:
            app.send_task(entry["task"])
        time.sleep(every_s)


def start_inprocess_worker(*, with_schedule: bool = False):
    """Run a Celery worker on a daemon thread of this process (embedded mode only).

    `with_schedule` also runs `EMBEDDED_SCHEDULE` (the embedded mode's stand-in for beat); tests
    that borrow the worker thread leave it off, so no sweep runs under their data.

    WorkController installs no signal handlers, so unlike `app.Worker` it can run off the main
    thread. With the memory broker only this process's producers reach it, which is the point.
    """
    global _inprocess_worker
    with _inprocess_lock:
        if _inprocess_worker is not None:
            return _inprocess_worker
        from celery.worker import WorkController

        worker = WorkController(
            app=app,
            pool="solo",
            concurrency=1,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="INFO",
        )
        threading.Thread(target=worker.start, name="celery-inprocess", daemon=True).start()
        _inprocess_worker = worker
        if with_schedule:
            threading.Thread(target=_run_embedded_schedule, name="celery-inprocess-schedule", daemon=True).start()
        # Embedded mode has no beat and its memory broker died with the previous process: events
        # that process committed but never delivered are this worker's to deliver, whatever their age.
        from common.tasks import events_sweep_task

        events_sweep_task.delay(0)
        return worker
