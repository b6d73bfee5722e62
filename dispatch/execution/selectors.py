"""Reads of route execution: the driver behind a sign-in, today's route, a driver's stop."""

import datetime as dt

from django.db.models import Prefetch

from dispatch.models import STOP_OPEN, Driver, PlanStatus, Route, Stop, StopStatus


def driver_for_user(*, organization, user) -> Driver | None:
    return Driver.objects.filter(organization=organization, user=user).select_related("home_hub").first()


def driver_day(*, driver: Driver, now: dt.datetime) -> dt.date:
    """Today at the driver's home hub."""
    return now.astimezone(driver.home_hub.tz).date()


def driver_routes_on(*, driver: Driver, date: dt.date):
    """The driver's dispatched routes of a day at their home hub, stops in order (dropped ones left out)."""
    stops = Stop.objects.exclude(status=StopStatus.DROPPED).select_related("order", "eta").order_by("sequence", "pk")
    return (
        Route.objects.filter(
            plan__organization_id=driver.organization_id,
            plan__hub_id=driver.home_hub_id,
            plan__date=date,
            plan__status=PlanStatus.DISPATCHED,
            driver=driver,
        )
        .select_related("plan", "plan__hub", "vehicle", "driver", "plan__organization")
        .prefetch_related(Prefetch("stops", queryset=stops))
        .order_by("plan__wave", "pk")
    )


def driver_route_current(*, driver: Driver, date: dt.date, route_id: int | None = None) -> Route | None:
    """The route the driver works now: the one named, else the first whose shift has not ended."""
    routes = list(driver_routes_on(driver=driver, date=date))
    if route_id is not None:
        return next((route for route in routes if route.pk == route_id), None)
    return next((route for route in routes if route.shift_ended_at is None), routes[-1] if routes else None)


def stop_for_organization(*, organization_id: int, stop_id: int) -> Stop | None:
    return (
        Stop.objects.filter(pk=stop_id, route__plan__organization_id=organization_id)
        .select_related("route", "route__driver", "order")
        .first()
    )


def route_open_stop_ids(*, route: Route) -> list[int]:
    return list(
        Stop.objects.filter(route=route, status__in=STOP_OPEN).order_by("sequence", "pk").values_list("pk", flat=True)
    )
