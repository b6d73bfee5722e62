"""Reads of plans, routes and stops; every selector is given the organization."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Min, Prefetch, QuerySet

from common import clock
from common.heartbeat import stale_after_s, unclaimed_after_s
from dispatch.models import ACTIVE_STATUSES, Driver, Plan, PlanUnassigned, Route, Stop, StopStatus, Vehicle
from dispatch.network.travel import road_line
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.selectors import order_list
from routing.adapter import Crew

PLANNABLE_ORDER_STATUSES = (OrderStatus.VALIDATED, OrderStatus.RESCHEDULED)
ROUTE_COLORS = ("#0b6bcb", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#e67700", "#0c8599", "#5c7cfa")


def plan_list(*, organization, date: dt.date | None = None, hub=None) -> QuerySet[Plan]:
    plans = Plan.objects.filter(organization=organization).select_related("hub")
    if date is not None:
        plans = plans.filter(date=date)
    if hub is not None:
        plans = plans.filter(hub=hub)
    return plans


def plan_get(*, organization, plan_id: int) -> Plan:
    """One plan with its routes, stops and unassigned orders loaded (raises Plan.DoesNotExist)."""
    stops = Stop.objects.exclude(status=StopStatus.DROPPED).select_related("order").order_by("sequence")
    return (
        plan_list(organization=organization)
        .prefetch_related(
            Prefetch(
                "routes",
                queryset=Route.objects.select_related("vehicle", "driver", "plan__hub").prefetch_related(
                    Prefetch("stops", queryset=stops), "driver__shift_overrides"
                ),
            ),
            Prefetch("unassigned", queryset=PlanUnassigned.objects.select_related("order")),
        )
        .get(pk=plan_id)
    )


def plan_active_for(*, organization, hub_id: int, date: dt.date, status: str) -> QuerySet[Plan]:
    return plan_list(organization=organization, date=date).filter(hub_id=hub_id, status=status)


def plan_eligible_orders(*, plan: Plan) -> QuerySet[Order]:
    """Orders the plan may take: validated or rescheduled, its hub and day, on no active plan."""
    taken = Stop.objects.exclude(status=StopStatus.DROPPED).filter(route__plan__status__in=ACTIVE_STATUSES)
    taken = taken.exclude(route__plan=plan).values("order_id")
    return (
        Order.objects.filter(
            organization=plan.organization,
            hub=plan.hub,
            delivery_date=plan.date,
            status__in=PLANNABLE_ORDER_STATUSES,
        )
        .exclude(pk__in=taken)
        .order_by("pk")
    )


def plan_crews(*, plan: Plan) -> list[Crew]:
    """Vehicles of the hub paired with drivers who work that day.

    Pairing rule: drivers sorted by longest shift first (then name), vehicles by largest
    capacity (parcels, kg, m³) then name; the longest shift gets the biggest vehicle. A
    vehicle or driver over the count of the other stays home.
    """
    drivers = [
        (driver, shift)
        for driver in Driver.objects.filter(organization=plan.organization, home_hub=plan.hub, active=True)
        .prefetch_related("shift_overrides")
        .order_by("name", "pk")
        if (shift := driver.shift_on(plan.date))
    ]
    drivers.sort(key=lambda pair: -_shift_seconds(pair[1]))
    vehicles = sorted(
        Vehicle.objects.filter(organization=plan.organization, home_hub=plan.hub, active=True),
        key=lambda v: (-v.capacity_parcels, -v.capacity_kg, -v.capacity_m3, v.name, v.pk),
    )
    return [Crew(vehicle, driver, shift) for vehicle, (driver, shift) in zip(vehicles, drivers, strict=False)]


def _shift_seconds(shift: dict) -> int:
    def seconds(value: str) -> int:
        hours, minutes = value.split(":")[:2]
        return int(hours) * 3600 + int(minutes) * 60

    return seconds(shift["end"]) - seconds(shift["start"])


def plan_crew_for_route(*, route: Route) -> Crew | None:
    shift = route.driver.shift_on(route.plan.date) if route.driver else None
    if not shift:
        return None
    return Crew(route.vehicle, route.driver, shift)


def plan_liveness() -> dict[str, float]:
    """When an optimizing plan counts as lost: `Plan.is_stale` and `Plan.as_read` take these."""
    return {"after_s": stale_after_s(), "unclaimed_after_s": unclaimed_after_s()}


def plan_stale_ids(*, now: dt.datetime) -> list[int]:
    """Plans stuck in optimizing whose worker stopped beating (no organization: a sweep)."""
    stuck = Plan.objects.filter(status="optimizing").only("pk", "status", "heartbeat_at", "started_at")
    liveness = plan_liveness()
    return [plan.pk for plan in stuck if plan.is_stale(now=now, **liveness)]


def driver_today(*, organization, user) -> dt.date:
    """Today at the driver's home hub: the day whose routes the driver drives (and tracking follows)."""
    driver = Driver.objects.filter(organization=organization, user=user).select_related("home_hub").first()
    tz = driver.home_hub.tz if driver is not None else ZoneInfo(organization.timezone)
    return clock.now().astimezone(tz).date()


def driver_routes(*, organization, user, date: dt.date) -> QuerySet[Route]:
    """The signed-in driver's dispatched routes of a day, stops in order."""
    stops = Stop.objects.exclude(status=StopStatus.DROPPED).select_related("order").order_by("sequence")
    return (
        Route.objects.filter(
            plan__organization=organization,
            plan__date=date,
            plan__status="dispatched",
            driver__user=user,
        )
        .select_related("plan", "plan__hub", "vehicle", "driver")
        .prefetch_related(Prefetch("stops", queryset=stops), "driver__shift_overrides")
        .order_by("plan__wave", "pk")
    )


def route_line(route: Route) -> list[list[float]]:
    """The line a map draws for `route`: from its hub through its stops in order and back.

    Along the roads when OSRM is on (`dispatch.network.travel`), else straight; the caller has
    loaded the route's plan and hub, vehicle and stops with their orders.
    """
    hub = route.plan.hub
    stops = sorted((s for s in route.stops.all() if s.status != StopStatus.DROPPED), key=lambda s: s.sequence)
    if not stops:
        return []
    points = [(hub.lat, hub.lng), *((s.order.lat, s.order.lng) for s in stops), (hub.lat, hub.lng)]
    return road_line(points, vehicle_type=route.vehicle.type)


def board_plans(*, organization, hub_id: int, since: dt.date) -> QuerySet[Plan]:
    """What a dispatch board shows on (re)connect: the hub's plans from `since` on."""
    return plan_list(organization=organization).filter(hub_id=hub_id, date__gte=since).order_by("date", "wave")


def next_planning_day(*, organization, today: dt.date) -> dt.date:
    """The first day from today with orders waiting for a plan (today when there are none)."""
    waiting = order_list(organization=organization).filter(
        status__in=[OrderStatus.VALIDATED, OrderStatus.RESCHEDULED], delivery_date__gte=today
    )
    return waiting.aggregate(first=Min("delivery_date"))["first"] or today
