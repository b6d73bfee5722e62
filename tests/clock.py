"""The suite's one clock: every test starts at `START` and the clock ticks from there.

`tests/conftest.py` pins it with time-machine (autouse), so nothing in the suite reads the
machine's date: a test that needs another moment moves the clock with the `time_machine`
fixture, and every factory day is counted from `TODAY`. START is a Monday so that the
factories' Monday-to-Friday shifts cover the days tests plan for.
"""

import datetime as dt
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
START = dt.datetime(2026, 11, 30, 8, 0, tzinfo=HELSINKI)
TODAY = START.date()


def day(offset: int) -> dt.date:
    """The date `offset` days after the suite's today (in Helsinki)."""
    return TODAY + dt.timedelta(days=offset)


def at(date: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """Helsinki wall-clock time on `date`, timezone-aware."""
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=HELSINKI)
