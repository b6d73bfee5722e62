"""The control tower's reads: the day's snapshot (hubs, drivers, routes, KPIs, open exceptions).

The tower page renders it and `/ws/tower/` sends it on connect (`TowerSnapshotSerializer`);
pushes then keep it current.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, QuerySet

from common import clock
from dispatch.models import STOP_OPEN, Hub, PlanStatus, Route, Stop, StopStatus
from dispatch.network.selectors import hub_list
from dispatch.planning.selectors import plan_list
from orders.models import OrderEvent
from orders.selectors import order_list
from tracking.models import DeliveryException, ExceptionStatus, LatestPosition, StopEta
from tracking.payloads import FAILED_STATUSES, DriverOnMap

# The tower shows drivers heard from within this long.
DRIVER_RECENT = dt.timedelta(hours=12)


def organization_today(organization) -> dt.date:
    return clock.now().astimezone(ZoneInfo(organization.timezone)).date()


def _empty_kpis() -> dict:
    return {"delivered": 0, "failed": 0, "pending": 0, "on_time_pct": None, "late_risk": 0, "_on_time": 0}


def kpis_for_day(*, organization, day: dt.date) -> dict:
    """Delivered, failed, pending, on-time % and late-risk count of a day, overall and per hub."""
    orders = order_list(organization=organization).filter(delivery_date=day)
    hubs: dict = defaultdict(_empty_kpis)
    for row in orders.values("hub_id", "status").annotate(n=Count("id")):
        kpis = hubs[row["hub_id"]]
        if row["status"] == "delivered":
            kpis["delivered"] += row["n"]
        elif row["status"] in FAILED_STATUSES:
            kpis["failed"] += row["n"]
        elif row["status"] != "cancelled":
            kpis["pending"] += row["n"]
    delivered = OrderEvent.objects.filter(order__in=orders, kind="order_delivered")
    for hub_id, at, window_end in delivered.values_list("order__hub_id", "at", "order__window_end"):
        hubs[hub_id]["_on_time"] += window_end is None or at <= window_end
    late = StopEta.objects.filter(late=True, stop__order__in=orders, stop__status__in=STOP_OPEN)
    for row in late.values("stop__order__hub_id").annotate(n=Count("pk")):
        hubs[row["stop__order__hub_id"]]["late_risk"] += row["n"]
    total = _empty_kpis()
    for kpis in hubs.values():
        for name in ("delivered", "failed", "pending", "late_risk", "_on_time"):
            total[name] += kpis[name]
    return {"all": _finish(total), "hubs": {str(hub_id): _finish(kpis) for hub_id, kpis in hubs.items()}}


def _finish(kpis: dict) -> dict:
    on_time = kpis.pop("_on_time")
    kpis["on_time_pct"] = round(100 * on_time / kpis["delivered"], 1) if kpis["delivered"] else None
    return kpis


def stop_state(stop: Stop, stop_eta: StopEta | None) -> str:
    """The colour a stop gets on the map: delivered, failed, late, in_progress or planned."""
    status = stop.order.status
    if status == "delivered":
        return "delivered"
    if status in FAILED_STATUSES:
        return "failed"
    if stop.status == StopStatus.DONE:
        return "delivered"
    if stop_eta is not None and stop_eta.late:
        return "late"
    return "in_progress" if stop.status == StopStatus.ARRIVED else "planned"


def tower_routes(*, organization, day: dt.date) -> list[Route]:
    """The day's dispatched routes, each with its stops in order (dropped ones left out) and their ETAs."""
    plans = plan_list(organization=organization, date=day).filter(status=PlanStatus.DISPATCHED)
    stops = Stop.objects.exclude(status=StopStatus.DROPPED).select_related("order", "eta").order_by("sequence")
    return list(
        Route.objects.filter(plan__in=plans)
        .select_related("plan__hub", "driver", "vehicle")
        .prefetch_related(Prefetch("stops", queryset=stops))
        .order_by("plan__hub_id", "pk")
    )


@dataclass(frozen=True)
class TowerSnapshot:
    """What `TowerSnapshotSerializer` turns into the tower's `snapshot` message."""

    date: dt.date
    hubs: QuerySet[Hub]
    drivers: list[DriverOnMap]
    routes: list[Route]
    kpis: dict
    exceptions: QuerySet[DeliveryException]


def tower_snapshot(*, organization, day: dt.date | None = None) -> TowerSnapshot:
    """Everything the control tower draws on connect: hubs, drivers, routes, KPIs, open exceptions."""
    day = day or organization_today(organization)
    routes = tower_routes(organization=organization, day=day)
    # A driver with several routes that day is filed under the last one.
    route_of_driver = {route.driver_id: route for route in routes if route.driver_id}
    latest = LatestPosition.objects.filter(
        organization=organization, recorded_at__gte=clock.now() - DRIVER_RECENT
    ).select_related("driver")
    drivers = []
    for position in latest:
        route = route_of_driver.get(position.driver_id)
        hub_id = route.plan.hub_id if route else position.driver.home_hub_id
        drivers.append(DriverOnMap(position.driver, position, hub_id=hub_id, route_id=route.pk if route else None))
    return TowerSnapshot(
        date=day,
        hubs=hub_list(organization=organization),
        drivers=drivers,
        routes=routes,
        kpis=kpis_for_day(organization=organization, day=day),
        exceptions=exception_list_open(organization=organization)[:200],
    )


def exception_list_open(*, organization):
    return (
        DeliveryException.objects.filter(organization=organization)
        .exclude(status=ExceptionStatus.RESOLVED)
        .select_related("assigned_to")
    )
