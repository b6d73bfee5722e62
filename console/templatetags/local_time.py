"""Times as people at the hub read them: in the hub's time zone, one format, the zone named.

`{{ order.window_start|local_time:order }}`    -> "Mon 30 Nov 2026, 10:00 EET"
`{% local_window start end order %}`           -> "Mon 30 Nov 2026, 10:00–12:00 EET"
`{{ stop.planned_arrival|local_clock:hub }}`   -> "10:00", for tables of one day at one hub whose
                                                  heading names the zone (`{{ hub|zone_name }}`)

The zone is the hub's, else the organization's (orders without a hub, API keys), else UTC; the
argument may be an order, a hub, a route, an organization or a zone name. static/common/time.js
formats the same way in the browser.
"""

import datetime as dt
import zoneinfo

from django import template
from django.utils import dateformat

from common import clock

register = template.Library()

DATE = "D j M Y"
CLOCK = "H:i"
DATE_TIME = f"{DATE}, {CLOCK} T"
UTC = zoneinfo.ZoneInfo("UTC")


def zone_of(where) -> zoneinfo.ZoneInfo:
    if isinstance(where, zoneinfo.ZoneInfo):
        return where
    if isinstance(where, str):
        name = where
    elif (hub := getattr(where, "hub", None)) is not None:
        name = hub.timezone
    elif (plan := getattr(where, "plan", None)) is not None:
        name = plan.hub.timezone
    elif getattr(where, "timezone", None):
        name = where.timezone
    elif (organization := getattr(where, "organization", None)) is not None:
        name = organization.timezone
    else:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _as_datetime(value) -> dt.datetime | None:
    # Orders keep their requested windows as ISO 8601 strings in JSON (`time_windows`).
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, dt.datetime) else None


def _local(value, where) -> dt.datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone_of(where))


@register.filter
def local_time(value, where=None) -> str:
    if (value := _as_datetime(value)) is None:
        return ""
    return dateformat.format(_local(value, where), DATE_TIME)


@register.filter
def local_clock(value, where=None) -> str:
    if (value := _as_datetime(value)) is None:
        return ""
    return dateformat.format(_local(value, where), CLOCK)


@register.filter
def zone_name(where) -> str:
    """E.g. `EET (Europe/Helsinki)`: the abbreviation in force now (it changes with summer time)."""
    zone = zone_of(where)
    return f"{clock.now().astimezone(zone).tzname()} ({zone.key})"


@register.simple_tag
def local_window(start, end, where=None) -> str:
    start, end = _as_datetime(start), _as_datetime(end)
    if start is None or end is None:
        return ""
    start, end = _local(start, where), _local(end, where)
    if start.date() == end.date():
        return f"{dateformat.format(start, f'{DATE}, {CLOCK}')}–{dateformat.format(end, f'{CLOCK} T')}"
    return f"{dateformat.format(start, DATE_TIME)} – {dateformat.format(end, DATE_TIME)}"
