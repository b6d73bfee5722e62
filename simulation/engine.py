"""The simulated day, advanced by `step(until)`: the one API a headless run and a real-time
driver (the living demo) share.

Time is the simulator's: the clock is held still (`common.clock.hold`) and moved to each event's
instant before it runs, and never slept on, so a seed gives the same day on any machine. Events
run in (instant, kind, driver) order: drivers' moves, then the periodic checks beat would run
(silent and idle drivers, "arriving soon", due messages) as plain calls, then the ETA sampling.
Celery tasks run inline (eagerly) meanwhile, so every reaction to an event (notifications, the
failed-delivery policy, exceptions) has happened before the next event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import logging
import random
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.test.utils import override_settings

from common import clock
from demo.seed import TZ
from dispatch.models import PlanStatus, Route
from dispatch.planning.services import live
from notifications.tasks import arriving_soon_scan_task, messages_sweep_task
from simulation.drivers import SimDriver
from simulation.etas import EtaRecorder
from simulation.scenario import Scenario, World
from tracking.tasks import detect_silent_and_idle_drivers_task

DRIVER, CHECKS = 0, 1
QUIET_LOGGERS = ("celery.app.trace", "notifications.channels")


@contextlib.contextmanager
def simulated_time(start: dt.datetime) -> Iterator[None]:
    """Hold the clock at `start`, run Celery tasks inline and keep the messages in memory; undo all after."""
    from config.celery import app

    eager, propagates = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    # The live re-plan's search is cut by wall time; without its time budget it keeps the greedy
    # insertion, which depends on nothing but the data (the simulated day must repeat exactly).
    budget = live.LIVE_BUDGET_S
    live.LIVE_BUDGET_S = 0.0
    clock.hold(start)
    # Each inline task and each console SMS would log a line: thousands in a day, saying nothing
    # the report does not (the message log counts them).
    quiet = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            yield
    finally:
        clock.hold(None)
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
        live.LIVE_BUDGET_S = budget
        app.conf.task_always_eager, app.conf.task_eager_propagates = eager, propagates


class Simulation:
    def __init__(self, world: World, scenario: Scenario) -> None:
        self.world, self.scenario = world, scenario
        routes = (
            Route.objects.filter(plan__in=world.plans, plan__status=PlanStatus.DISPATCHED, driver__isnull=False)
            .exclude(start_time=None)
            .select_related("driver", "vehicle", "plan__hub", "plan__organization")
            .order_by("pk")
        )
        # One stream of chance per driver, drawn from the seed: a driver's day does not depend on
        # how the others' events interleave.
        self.drivers = [
            SimDriver(route, rng=random.Random(f"{scenario.seed}:{index}"), scenario=scenario)
            for index, route in enumerate(routes)
        ]
        self.etas = EtaRecorder()
        self.moved: set[int] = set()  # drivers who acted since the last ETA sample
        self.now = min((d.next_at for d in self.drivers), default=clock.now())
        self.check_every = dt.timedelta(seconds=scenario.check_interval_s)
        self.queue: list[tuple[dt.datetime, int, int]] = [(d.next_at, DRIVER, i) for i, d in enumerate(self.drivers)]
        self.queue.append((self.now, CHECKS, 0))
        heapq.heapify(self.queue)
        self.checks_run = 0

    @property
    def finished(self) -> bool:
        return all(d.phase == "done" for d in self.drivers)

    def step(self, until: dt.datetime) -> None:
        """Run every event due up to `until` (simulated time), then leave the clock at `until`."""
        while self.queue and self.queue[0][0] <= until and not self.finished:
            at, kind, index = heapq.heappop(self.queue)
            self.now = at
            clock.hold(at)
            if kind == DRIVER:
                driver = self.drivers[index]
                driver.advance(at)
                self.moved.add(index)
                if driver.phase != "done":
                    heapq.heappush(self.queue, (driver.next_at, DRIVER, index))
            else:
                self._checks(at)
                heapq.heappush(self.queue, (at + self.check_every, CHECKS, 0))
        self.now = max(self.now, until)
        clock.hold(until)
        self.etas.sample(self.now, [i for index in sorted(self.moved) for i in self.drivers[index].open_stop_ids])
        self.moved = set()

    def _checks(self, at: dt.datetime) -> None:
        """What beat runs on a schedule (config/settings.py CELERY_BEAT_SCHEDULE), as calls."""
        detect_silent_and_idle_drivers_task()
        arriving_soon_scan_task()
        messages_sweep_task()
        self.checks_run += 1

    def run(self, *, step: dt.timedelta = dt.timedelta(minutes=1), day_end: dt.datetime | None = None) -> None:
        """The whole day, a step at a time (the ETAs shown are sampled at the end of each step)."""
        day_end = day_end or self.now + dt.timedelta(hours=24)
        while not self.finished and self.now < day_end:
            self.step(self.now + step)


def start_instant(scenario: Scenario) -> dt.datetime:
    """Seeding and planning happen early in the morning of the simulated day (hub's zone)."""
    return dt.datetime.combine(scenario.date, dt.time(5, 0), tzinfo=ZoneInfo(TZ))
