"""Liveness of long work: a thread that beats on time while the work runs, and when silence means death.

A solve can go minutes without improving its cost, and an engine may not call back at all while
it builds its first solution, so liveness cannot ride on progress reports: a reader would take a
healthy run for a dead one and a retry would start a second solve beside it. The beat comes from
its own thread instead, every `WAYPOINT_HEARTBEAT_S` seconds, whatever the work is doing; a run is
stale (its worker died) only after `MISSED_BEATS` beats in a row went missing.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)
# Beats a run may miss (a paused VM, a slow database) before readers and the sweep call it dead.
MISSED_BEATS = 4


def beat_every_s() -> float:
    return float(settings.WAYPOINT_HEARTBEAT_S)


def stale_after_s() -> float:
    """Seconds without a beat after which a run counts as lost."""
    return MISSED_BEATS * beat_every_s()


def lost_within_s() -> float:
    """The stated bound: a run whose worker died is recorded failed at most this long after its last beat."""
    return stale_after_s() + float(settings.WAYPOINT_STALE_SWEEP_S)


@contextmanager
def heartbeat(beat: Callable[[], object], *, every_s: float | None = None) -> Iterator[None]:
    """Call `beat` every `every_s` seconds on a daemon thread while the block runs.

    `beat` writes the run's heartbeat (a conditional UPDATE, so a superseded run writes nothing);
    its errors are logged and the beating goes on, since a database blip must not kill the work.
    """
    every_s = beat_every_s() if every_s is None else every_s
    stop = threading.Event()

    def run() -> None:
        try:
            while not _stopped_within(stop, every_s):
                try:
                    beat()
                except Exception:
                    logger.exception("Heartbeat failed; retrying in %s s", every_s)
        finally:
            connection.close()  # the thread's own connection, opened by its first beat

    thread = threading.Thread(target=run, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        # Bounded: a beat stuck on a lock must not hold the finished work; its write is conditional.
        thread.join(timeout=every_s)


def _stopped_within(stop: threading.Event, seconds: float) -> bool:
    """`stop.wait(seconds)` in short sleeps: a timed wait never returned under libfaketime (make test-clock-shift)."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
    return stop.is_set()


def unclaimed_after_s() -> float:
    """Seconds after which a run that no worker ever claimed counts as lost.

    Its message may wait behind other solves, so this is not the heartbeat's bound: an unacknowledged
    message comes back within the broker's visibility timeout, so past it (and a claim's first beats)
    the message is gone, e.g. with a broker that lost its data or the embedded mode's restarted process.
    """
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    return float(options.get("visibility_timeout", 900)) + stale_after_s()
