"""The one source of "now": timezone-aware, and movable by the simulator and tests.

Application code asks `clock.now()`, never `datetime.now()` or `timezone.now()`, so that one
setting moves every process of a run: tests pin the clock with time-machine, and a process that
they start (a Celery worker) or a simulated day is handed its start instant through
`WAYPOINT_CLOCK_START` (read once, when the `common` app is ready).
"""

import datetime as dt

from django.utils import timezone

_offset = dt.timedelta(0)
# Set while a simulation holds the clock still: `now()` reads exactly this until it moves it.
_held: dt.datetime | None = None


def now() -> dt.datetime:
    if _held is not None:
        return _held
    return timezone.now() + _offset


def shift(delta: dt.timedelta) -> None:
    """Move the clock forward by `delta` (simulation)."""
    global _offset, _held
    _offset += delta
    if _held is not None:
        _held += delta


def hold(instant: dt.datetime | None) -> None:
    """Stop the clock at `instant`, or (None) let it tick again as before the hold.

    A headless simulation must be deterministic: a ticking clock would stamp every write with how
    long the machine took, so the simulator holds it and moves it step by step itself.
    """
    if instant is not None and instant.tzinfo is None:
        raise ValueError("the clock's held instant needs a UTC offset")
    global _held
    _held = instant


def start_at(instant: dt.datetime) -> None:
    """Make `now()` read `instant` at this moment; it keeps ticking from there."""
    if instant.tzinfo is None:
        raise ValueError("the clock's start instant needs a UTC offset")
    global _offset
    _offset = instant - timezone.now()
