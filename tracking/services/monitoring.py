"""Detectors that raise exceptions: from positions (off route) and on a schedule (silent or idle
drivers). Those raised from domain events (failed attempts, address issues, capacity overflow)
are in `tracking/handlers.py`."""

import datetime as dt
import math

from django.conf import settings

from common import clock
from common.geo import haversine_m
from dispatch.models import STOP_OPEN, PlanStatus, Route
from tracking.models import DriverPosition, LatestPosition
from tracking.services.exceptions import exception_raise

OFF_ROUTE_M = 1500  # farther than this from the leg being driven
IDLE_RADIUS_M = 50
AT_STOP_M = 150


def distance_to_leg_m(point, start, end) -> float:
    """Distance from `point` to the segment start→end, in metres (flat-earth, city scale)."""
    scale = 111_320.0
    cos_lat = max(0.1, abs(math.cos(math.radians(point[0]))))
    px, py = (point[1] - start[1]) * scale * cos_lat, (point[0] - start[0]) * scale
    ex, ey = (end[1] - start[1]) * scale * cos_lat, (end[0] - start[0]) * scale
    length2 = ex * ex + ey * ey
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, (px * ex + py * ey) / length2))
    return ((px - t * ex) ** 2 + (py - t * ey) ** 2) ** 0.5


def check_off_route(route: Route, stops: list, position: tuple[float, float], *, last_done) -> None:
    """Raise `off_route` when `position` is far from the leg between the last stop done and the next."""
    if not stops:
        return
    hub = route.plan.hub
    origin = (last_done.order.lat, last_done.order.lng) if last_done else (hub.lat, hub.lng)
    target = (stops[0].order.lat, stops[0].order.lng)
    away = distance_to_leg_m(position, origin, target)
    if away > OFF_ROUTE_M:
        exception_raise(
            organization=route.plan.organization,
            kind="off_route",
            cause=f"off_route:route:{route.pk}",
            message=f"{route.driver.name if route.driver else 'The driver'} is {away / 1000:.1f} km away from the "
            f"way to {stops[0].order.merchant_reference}.",
            route=route,
            driver=route.driver,
            order=stops[0].order,
        )


def _active_routes(now: dt.datetime):
    return (
        Route.objects.filter(
            plan__status=PlanStatus.DISPATCHED,
            broken_down=False,
            driver__isnull=False,
            start_time__lte=now,
            stops__status__in=STOP_OPEN,
        )
        .filter(end_time__gte=now - dt.timedelta(hours=2))
        .select_related("driver", "plan__organization")
        .distinct()
    )


def detect_silent_and_idle_drivers(*, now: dt.datetime | None = None) -> int:
    """Raise `no_position` and `driver_idle` for drivers on an active route; returns how many."""
    now = now or clock.now()
    silent_after = dt.timedelta(minutes=settings.WAYPOINT_NO_POSITION_MINUTES)
    idle_after = dt.timedelta(minutes=settings.WAYPOINT_IDLE_MINUTES)
    raised = 0
    for route in _active_routes(now):
        latest = LatestPosition.objects.filter(driver=route.driver).first()
        if latest is None or now - latest.recorded_at > silent_after:
            minutes = "any" if latest is None else f"{(now - latest.recorded_at).total_seconds() / 60:.0f} min of"
            raised += bool(
                exception_raise(
                    organization=route.plan.organization,
                    kind="no_position",
                    severity="critical",
                    cause=f"no_position:route:{route.pk}",
                    route=route,
                    driver=route.driver,
                    message=f"No position from {route.driver.name} for {minutes} time on an active route.",
                )
            )
        elif _idle(route, latest, now, idle_after):
            raised += bool(
                exception_raise(
                    organization=route.plan.organization,
                    kind="driver_idle",
                    cause=f"driver_idle:route:{route.pk}",
                    route=route,
                    driver=route.driver,
                    message=f"{route.driver.name} has not moved for {idle_after.total_seconds() / 60:.0f} minutes.",
                )
            )
    return raised


def _idle(route, latest, now, idle_after) -> bool:
    recent = DriverPosition.objects.filter(driver=route.driver, recorded_at__gte=now - idle_after)
    oldest = recent.order_by("recorded_at").first()
    if oldest is None or latest.recorded_at - oldest.recorded_at < idle_after * 0.8:
        return False  # not enough history to say
    if any(haversine_m(latest.lat, latest.lng, p.lat, p.lng) > IDLE_RADIUS_M for p in recent):
        return False
    near_stop = route.stops.filter(status__in=STOP_OPEN).select_related("order")
    return not any(haversine_m(latest.lat, latest.lng, s.order.lat, s.order.lng) < AT_STOP_M for s in near_stop)
