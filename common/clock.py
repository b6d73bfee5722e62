"""The one source of "now": timezone-aware, and replaceable by the simulator and tests."""

import datetime as dt

from django.utils import timezone

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return timezone.now() + _offset


def shift(delta: dt.timedelta) -> None:
    """Move the clock forward (simulation); tests prefer freezing via monkeypatch of `now`."""
    global _offset
    _offset += delta
