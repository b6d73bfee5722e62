"""How far back and ahead a date or a time window may lie: the line between a plan and nonsense.

Plans, slot holds, availability queries and order windows are refused (field-level 400) outside
[today - WAYPOINT_HORIZON_PAST_DAYS, today + WAYPOINT_HORIZON_DAYS], "today" in the zone of the
hub or organisation concerned. Without it year 1 and year 9999 were stored, and date arithmetic
at the ends of the calendar raised OverflowError (a 500) or landed on local-mean-time offsets.
"""

import datetime as dt
import zoneinfo

from django.conf import settings

from common import clock


def _days_ahead() -> int:
    return settings.WAYPOINT_HORIZON_DAYS


def _days_back() -> int:
    return settings.WAYPOINT_HORIZON_PAST_DAYS


def zone(name_or_zone: str | dt.tzinfo | None) -> dt.tzinfo:
    if name_or_zone is None:
        return dt.UTC
    if isinstance(name_or_zone, str):
        return zoneinfo.ZoneInfo(name_or_zone)
    return name_or_zone


def date_bounds(*, tz: str | dt.tzinfo | None) -> tuple[dt.date, dt.date]:
    today = clock.now().astimezone(zone(tz)).date()
    return today - dt.timedelta(days=_days_back()), today + dt.timedelta(days=_days_ahead())


def date_problem(value: dt.date, *, tz: str | dt.tzinfo | None) -> str | None:
    """The message for a date outside the horizon, or None."""
    earliest, latest = date_bounds(tz=tz)
    if earliest <= value <= latest:
        return None
    return f"Choose a date from {earliest.isoformat()} to {latest.isoformat()}."


def window_problems(start: dt.datetime, end: dt.datetime) -> dict[str, list[str]]:
    """Field errors for a delivery window that lies outside the horizon or is implausibly long."""
    now = clock.now()
    earliest = now - dt.timedelta(days=_days_back())
    latest = now + dt.timedelta(days=_days_ahead())
    longest = dt.timedelta(hours=settings.WAYPOINT_MAX_WINDOW_HOURS)
    errors: dict[str, list[str]] = {}
    if end < earliest:
        errors["end"] = [f"The window has ended; it must end after {_utc(earliest)}."]
    if start > latest:
        errors["start"] = [f"The window must start before {_utc(latest)}."]
    if end - start > longest:
        errors.setdefault("end", []).append(f"A window lasts at most {settings.WAYPOINT_MAX_WINDOW_HOURS} hours.")
    return errors


def _utc(instant: dt.datetime) -> str:
    # DRF has already moved the caller's time to UTC, so the caller's own offset is not known.
    return instant.astimezone(dt.UTC).isoformat(timespec="minutes")
