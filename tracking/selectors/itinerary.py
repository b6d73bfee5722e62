"""A driver's itinerary: the active route and its stops, read on every position.

This is the hottest read of live tracking (every fix of every driver), so it is one hand-written
statement rather than an ORM query: building the ORM's SQL for a six-table `select_related`
cost more than running it (bench/tracking_load.py, docs/benchmarks.md). The rows are turned into
ordinary model instances with Django's own value converters and `Model.from_db`, so fields not
read here are deferred (loaded on access) and every caller works with models as usual.

The active route is the driver's dispatched route of *today at its hub* (a plan dispatched for
tomorrow must not take today's positions), and only from its planned start minus
WAYPOINT_ROUTE_ACTIVE_BEFORE_MINUTES to its planned end plus WAYPOINT_ROUTE_ACTIVE_AFTER_MINUTES.
A position with no active route is stored, but moves no ETA, stop and customer page.
"""

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from common import clock
from dispatch.models import Hub, Plan, PlanStatus, Route, Stop, StopStatus, Vehicle
from orders.models import Order
from tracking.models import StopEta

TO_SERVE = (StopStatus.PLANNED, StopStatus.EN_ROUTE, StopStatus.ARRIVED)
# Stops the driver has been to: the last of them is where the road to the next one starts.
VISITED = (StopStatus.DONE, StopStatus.FAILED)
# The columns read per model, with the alias each table has in the statement below.
COLUMNS = (
    ("s", Stop, ("id", "route_id", "order_id", "sequence", "status", "planned_arrival", "arrived_at", "departed_at")),
    (
        "o",
        Order,
        (
            "id",
            "organization_id",
            "hub_id",
            "merchant_reference",
            "status",
            "lat",
            "lng",
            "service_minutes",
            "window_start",
            "window_end",
            "tracking_token",
        ),
    ),
    ("e", StopEta, ("stop_id", "eta", "window_start", "window_end", "late", "computed_at")),
    ("r", Route, ("id", "plan_id", "vehicle_id", "driver_id", "broken_down")),
    ("p", Plan, ("id", "organization_id", "hub_id", "date", "wave", "status")),
    ("h", Hub, ("id", "lat", "lng", "timezone")),
    ("v", Vehicle, ("id", "type")),
)


@dataclass
class Itinerary:
    """What a position is measured against: the active route, its stops to go, the last one done."""

    route: Route
    stops: list[Stop]  # still to serve, in order, each with its order loaded
    last_done: Stop | None
    estimates: dict[int, StopEta | None] = field(default_factory=dict)  # current ETA per stop id
    visited: list[Stop] = field(default_factory=list)  # done or failed, in order (the geofence's departures)

    @property
    def next_stop(self) -> Stop | None:
        return self.stops[0] if self.stops else None


def driver_itinerary(driver, *, now: dt.datetime | None = None) -> Itinerary | None:
    """The driver's active route with stops still to serve (latest wave first), or None."""
    now = now or clock.now()
    columns = _columns(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor), _parameters(driver, now))
        rows = [_converted(row, columns) for row in cursor.fetchall()]
    rows = _rows_of_todays_route(rows, now)
    if not rows:
        return None
    route = _route(rows[0])
    stops, estimates = [], {}
    for row in rows:
        stop = _instance(Stop, row["s"])
        stop.route, stop.order = route, _instance(Order, row["o"])
        estimates[stop.pk] = _instance(StopEta, row["e"]) if row["e"]["stop_id"] is not None else None
        stops.append(stop)
    done = [stop for stop in stops if stop.status in VISITED]
    to_go = [stop for stop in stops if stop.status in TO_SERVE]
    return Itinerary(route=route, stops=to_go, last_done=done[-1] if done else None, estimates=estimates, visited=done)


def _rows_of_todays_route(rows: list[dict], now: dt.datetime) -> list[dict]:
    """The rows of the first route whose plan is for today in its hub's time zone.

    The statement can only narrow the plan date to the days that are today somewhere (SQL has no
    portable time-zone arithmetic); the hub's own calendar decides here, on a route or two.
    """
    for row in rows:
        if row["p"]["date"] == now.astimezone(zoneinfo.ZoneInfo(row["h"]["timezone"])).date():
            route_id = row["r"]["id"]
            return [r for r in rows if r["r"]["id"] == route_id]
    return []


def _route(row: dict) -> Route:
    route, plan = _instance(Route, row["r"]), _instance(Plan, row["p"])
    plan.hub = _instance(Hub, row["h"])
    route.plan, route.vehicle = plan, _instance(Vehicle, row["v"])
    return route


def _instance(model, values: dict):
    return model.from_db(connection.alias, list(values), list(values.values()))


def _parameters(driver, now: dt.datetime) -> list:
    ops = connection.ops
    before = dt.timedelta(minutes=settings.WAYPOINT_ROUTE_ACTIVE_BEFORE_MINUTES)
    after = dt.timedelta(minutes=settings.WAYPOINT_ROUTE_ACTIVE_AFTER_MINUTES)
    utc_today = now.astimezone(dt.UTC).date()
    return [
        driver.pk,
        PlanStatus.DISPATCHED,
        False,
        # Today at any hub is one of these three days (UTC-12 to UTC+14).
        ops.adapt_datefield_value(utc_today - dt.timedelta(days=1)),
        ops.adapt_datefield_value(utc_today + dt.timedelta(days=1)),
        ops.adapt_datetimefield_value(now + before),
        ops.adapt_datetimefield_value(now - after),
        *TO_SERVE,
        *TO_SERVE,
        *VISITED,
    ]


def _placeholders(values: tuple) -> str:
    return ", ".join(["%s"] * len(values))


@functools.cache
def _statement(vendor: str) -> str:
    columns = _columns(vendor)
    table = {alias: model._meta.db_table for alias, model, _names in COLUMNS}
    selected = ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for alias, f, _convert in columns)
    return f"""
        SELECT {selected}
        FROM {table["s"]} s
        JOIN {table["o"]} o ON o.id = s.order_id
        JOIN {table["r"]} r ON r.id = s.route_id
        JOIN {table["p"]} p ON p.id = r.plan_id
        JOIN {table["h"]} h ON h.id = p.hub_id
        JOIN {table["v"]} v ON v.id = r.vehicle_id
        LEFT JOIN {table["e"]} e ON e.stop_id = s.id
        WHERE s.route_id IN (
            SELECT r2.id FROM {table["r"]} r2 JOIN {table["p"]} p2 ON p2.id = r2.plan_id
            WHERE r2.driver_id = %s AND p2.status = %s AND r2.broken_down = %s
              AND p2.date BETWEEN %s AND %s
              AND COALESCE(r2.start_time, (SELECT MIN(s3.planned_arrival) FROM {table["s"]} s3
                                           WHERE s3.route_id = r2.id)) <= %s
              AND COALESCE(r2.end_time, (SELECT MAX(s3.planned_departure) FROM {table["s"]} s3
                                         WHERE s3.route_id = r2.id)) >= %s
              AND EXISTS (SELECT 1 FROM {table["s"]} s2
                          WHERE s2.route_id = r2.id AND s2.status IN ({_placeholders(TO_SERVE)}))
        )
        AND s.status IN ({_placeholders((*TO_SERVE, *VISITED))})
        ORDER BY p.date DESC, p.wave DESC, r.id DESC, s.sequence
    """


@functools.cache
def _columns(vendor: str) -> list[tuple]:
    """(alias, field, converters) per selected column; converters as the ORM applies them."""
    out = []
    for alias, model, names in COLUMNS:
        # `Model.from_db` takes the values in the model's field order.
        fields = [f for f in model._meta.concrete_fields if f.attname in names or f.name in names]
        if len(fields) != len(names):
            raise LookupError(f"COLUMNS names a field {model.__name__} does not have: {names}")
        for model_field in fields:
            column = model_field.get_col(alias)
            convert = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            out.append((alias, model_field, (column, convert)))
    return out


def _converted(row: tuple, columns: list[tuple]) -> dict[str, dict]:
    """{alias: {attname: value}} with the database's values turned into Python ones."""
    values: dict[str, dict] = {alias: {} for alias, _model, _names in COLUMNS}
    for value, (alias, model_field, (column, convert)) in zip(row, columns, strict=True):
        for converter in convert:
            value = converter(value, column, connection)
        values[alias][model_field.attname] = value
    return values


def next_stop(driver) -> Stop | None:
    itinerary = driver_itinerary(driver)
    return itinerary.next_stop if itinerary is not None else None
