"""The one clock: tests pin it, and a process started with WAYPOINT_CLOCK_START reads the same time."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common import clock
from tests.clock import START

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def _restore_offset():
    offset = clock._offset
    yield
    clock._offset = offset


def test_every_test_starts_at_the_suites_start():
    """No test sees the machine's date."""
    assert START <= clock.now() < START + dt.timedelta(hours=1)


@pytest.mark.usefixtures("_restore_offset")
def test_start_at_moves_now_and_it_keeps_ticking(time_machine):
    time_machine.move_to(START, tick=False)

    clock.start_at(dt.datetime(2030, 6, 1, 9, 0, tzinfo=dt.UTC))
    time_machine.shift(dt.timedelta(seconds=90))

    assert clock.now() == dt.datetime(2030, 6, 1, 9, 1, 30, tzinfo=dt.UTC)


def test_start_at_refuses_an_instant_without_offset():
    with pytest.raises(ValueError, match="UTC offset"):
        clock.start_at(dt.datetime(2030, 6, 1, 9, 0))  # noqa: DTZ001 - the naive value is the point


def test_a_process_started_with_waypoint_clock_start_reads_that_instant():
    """What the tests' Celery workers rely on: the variable moves the whole process's clock."""
    env = {
        **os.environ,
        "WAYPOINT_CLOCK_START": "2031-03-04T05:06:07+00:00",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = "import django; django.setup(); from common import clock; print(clock.now().isoformat())"

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    started = dt.datetime.fromisoformat(out.stdout.strip())
    assert dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=dt.UTC) <= started < dt.datetime(2031, 3, 4, 6, 6, 7, tzinfo=dt.UTC)


def test_a_held_clock_stands_still_until_moved_and_ticks_again_when_released(time_machine):
    """The day simulator's clock: held at an instant, moved only by `shift`, then back to ticking."""
    time_machine.move_to(START, tick=False)
    held_at = dt.datetime(2030, 6, 1, 9, 0, tzinfo=dt.UTC)

    clock.hold(held_at)
    try:
        time_machine.shift(dt.timedelta(seconds=90))
        standing = clock.now()
        clock.shift(dt.timedelta(minutes=5))
        moved = clock.now()
    finally:
        clock.hold(None)
        clock.shift(-dt.timedelta(minutes=5))

    assert standing == held_at
    assert moved == held_at + dt.timedelta(minutes=5)
    assert clock.now() == START + dt.timedelta(seconds=90)
