"""Live changes to a dispatched plan with `routing.dynamic.reoptimise`.

An urgent order (priority >= URGENT_PRIORITY) for a hub and day with a dispatched plan is
inserted into a live route; a failed delivery is put back on its own route later the same day
when the route can still take it; a cancelled order's stop is dropped and its route re-timed; a
broken-down vehicle's remaining stops move to the other routes. Done and in-progress stops
never move: they are left out of the problem and each vehicle starts after the last of them.
"""

import datetime as dt
import logging
from dataclasses import replace

from django.db import transaction

from accounts.tenancy import Actor
from common import clock
from common.errors import ConflictError, FieldValidationError
from common.events import ORDER_ARRIVED, ORDER_DELIVERED, ORDER_FAILED
from dispatch.models import STOP_OPEN, ArrivalSource, Plan, PlanStatus, PlanUnassigned, Route, Stop, StopStatus
from dispatch.network.travel import travel_provider
from dispatch.planning.selectors import plan_crew_for_route
from dispatch.planning.services.edits import STOP_TIMING_FIELDS, plan_edit, routes_retime
from dispatch.planning.services.locks import routes_lock, stops_lock
from dispatch.planning.services.plans import route_apply_timing
from dispatch.planning.services.transitions import stop_transition
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.services import order_transition
from routing import Place, VehicleState, reoptimise
from routing.adapter import REASON_MESSAGES, Crew, PlanResult, build_problem, read_solution

logger = logging.getLogger(__name__)
URGENT_PRIORITY = 80
LIVE_BUDGET_S = 1.0


def _live_reoptimise(plan: Plan, routes: dict[int, Route], stops: list[Stop], *, new_order=None, broken=None) -> None:
    """Re-plan the remaining stops of `routes` (plan, routes and stops locked by the caller)."""
    crews, live, result = _live_solve(plan, routes, stops, new_order=new_order, broken=broken)
    _write_live(plan, routes, crews, live, result, new_order)


def _live_solve(
    plan: Plan,
    routes: dict[int, Route],
    stops: list[Stop],
    *,
    new_order=None,
    broken=None,
    not_before: dt.datetime | None = None,
) -> tuple[dict[int, Crew], list[Stop], PlanResult]:
    """The re-planned remaining stops of `routes`, written nowhere yet; `not_before` delays the new order."""
    crews: dict[int, Crew] = {}
    for route in routes.values():
        crew = plan_crew_for_route(route=route)
        if crew is not None and not route.broken_down:
            crews[route.pk] = crew
    live = [s for s in sorted(stops, key=lambda s: s.sequence) if s.status != StopStatus.DROPPED]
    remaining = [s for s in live if not s.is_fixed() and s.route_id in crews]
    orders = {o.pk: o for o in Order.objects.filter(pk__in=[s.order_id for s in remaining])}
    if new_order is not None:
        orders[new_order.pk] = new_order
    crew_list, order_list = list(crews.values()), list(orders.values())
    built = build_problem(hub=plan.hub, day=plan.date, crews=crew_list, orders=order_list, provider=travel_provider())
    now_s = built.seconds(clock.now())
    states = []
    for route_id, crew in crews.items():
        fixed = [s for s in live if s.route_id == route_id and s.is_fixed()]
        vehicle = next(v for v in built.problem.vehicles if v.id == crew.vehicle.pk)
        position = vehicle.start
        available = max(now_s, vehicle.time_window[0])
        if fixed:
            last = fixed[-1]
            position = Place(coordinates=(float(last.order.lng), float(last.order.lat)))
            available = max(available, built.seconds(last.planned_departure))
        states.append(
            VehicleState(
                vehicle_id=crew.vehicle.pk,
                position=position,
                available_at=available,
                remaining=[("job", s.order_id) for s in remaining if s.route_id == route_id],
                broken_down=broken is not None and route_id == broken.pk,
                breaks_taken=frozenset(b.id for b in vehicle.breaks if b.time_windows[0][1] < available),
            )
        )
    new_jobs = [j for j in built.problem.jobs if new_order is not None and j.id == new_order.pk]
    problem = built.problem
    problem.jobs = [j for j in problem.jobs if not new_jobs or j.id != new_jobs[0].id]
    if new_jobs and not_before is not None:
        new_jobs = [_not_before(new_jobs[0], built.seconds(not_before))]
    solution = reoptimise(problem, states, new_jobs=new_jobs, budget_s=LIVE_BUDGET_S, provider=built.provider)
    return crews, live, read_solution(built, solution)


def _not_before(job, earliest_s: int):
    """The job served no earlier than `earliest_s` (plan seconds), inside its own windows.

    The caller checks that one of the windows is still open then: no window would mean any time.
    """
    if not job.time_windows:
        return replace(job, time_windows=[(earliest_s, earliest_s + 2 * 86400)])
    windows = [(max(start, earliest_s), end) for start, end in job.time_windows if end >= earliest_s]
    if not windows:
        raise ValueError(f"order {job.id} has no window open after {earliest_s} s")
    return replace(job, time_windows=windows)


def _write_live(plan, routes, crews, live, result, new_order, *, reason: str = "urgent") -> None:
    by_vehicle = {crews[pk].vehicle.pk: routes[pk] for pk in crews}
    # Only stops still to serve are re-timed: an order re-attempted after a failure has its failed
    # stop on the route too, kept as history, and gets a new stop.
    stop_of = {s.order_id: s for s in live if s.status in STOP_OPEN}
    for timed in result.routes:
        route = by_vehicle[timed.vehicle_id]
        fixed = [s for s in live if s.route_id == route.pk and s.is_fixed()]
        for k, item in enumerate(timed.stops, start=len(fixed) + 1):
            stop = stop_of.get(item.order_id) or Stop(order_id=item.order_id)
            stop.route, stop.sequence = route, k
            stop.planned_arrival, stop.planned_departure = item.planned_arrival, item.planned_departure
            stop.save(update_fields=None if stop.pk is None else STOP_TIMING_FIELDS)
        route_apply_timing(route=route, result=timed)
    served = {s.order_id for r in result.routes for s in r.stops}
    for route_id in crews:
        if all(r.vehicle_id != crews[route_id].vehicle.pk for r in result.routes):
            route = routes[route_id]  # every remaining stop left this route
            route.start_time = route.end_time = None
            route.save(update_fields=["start_time", "end_time", "updated_at"])
    for item in result.unassigned:
        stop = stop_of.get(item.order_id)
        if stop is not None and item.order_id not in served:
            stop_transition(actor=None, stop=stop, to_status=StopStatus.DROPPED, reason=item.message)
        PlanUnassigned.objects.update_or_create(
            plan=plan,
            order_id=item.order_id,
            defaults={"reason": item.reason, "message": REASON_MESSAGES.get(item.reason, item.message)},
        )
        order = Order.objects.get(pk=item.order_id)
        if order.status in (OrderStatus.PLANNED, OrderStatus.DISPATCHED):
            order_transition(actor=None, order=order, to_status=OrderStatus.VALIDATED, reason=f"off plan {plan.pk}")
    if new_order is not None and new_order.pk in served:
        order = Order.objects.get(pk=new_order.pk)
        for status in (OrderStatus.PLANNED, OrderStatus.DISPATCHED):
            order = order_transition(actor=None, order=order, to_status=status, reason=f"{reason}, plan {plan.pk}")


def plan_order_created(*, order_id: int) -> Plan | None:
    """Insert an urgent new order into a dispatched plan of its hub and day, if there is one."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.priority < URGENT_PRIORITY or order.status not in ("validated", "rescheduled"):
        return None
    plan = (
        Plan.objects.filter(
            organization_id=order.organization_id,
            hub_id=order.hub_id,
            date=order.delivery_date,
            status=PlanStatus.DISPATCHED,
        )
        .order_by("-wave")
        .first()
    )
    if plan is None:
        return None
    with plan_edit(plan=plan, expected_version=None) as plan:
        routes = {r.pk: r for r in routes_lock(plan=plan)}
        stops = stops_lock(routes=routes.values())
        order = Order.objects.select_for_update().get(pk=order_id)
        if Stop.objects.filter(order=order, status__in=STOP_OPEN).exists():
            return plan  # a redelivered event: already on a route
        _live_reoptimise(plan, routes, _with_orders(stops), new_order=order)
    return plan


def _with_orders(stops: list[Stop]) -> list[Stop]:
    orders = {o.pk: o for o in Order.objects.filter(pk__in=[s.order_id for s in stops])}
    for stop in stops:
        stop.order = orders[stop.order_id]
    return stops


def plan_order_reattempt(*, order_id: int, route_id: int, not_before: dt.datetime) -> Stop | None:
    """Put a failed order back on its own route as a new stop, served no earlier than `not_before`.

    The insertion test runs against the route's remaining stops from where the driver is, inside
    the driver's shift and the order's windows; when the route cannot take the order without
    leaving any stop out, nothing changes and the answer is None. Otherwise the order goes
    failed -> rescheduled -> planned -> dispatched and the new stop is returned (the failed stop
    stays on the route as history). Lock order: plan, route, stops, then the order.
    """
    route = Route.objects.select_related("plan").filter(pk=route_id).first()
    if route is None or route.plan.status != PlanStatus.DISPATCHED:
        return None
    try:
        with plan_edit(plan=route.plan, expected_version=None) as plan:
            [route] = routes_lock(plan=plan, route_ids=[route_id])
            stops = _with_orders(stops_lock(routes=[route]))
            order = Order.objects.select_for_update().get(pk=order_id)
            if not _may_reattempt(plan, route, stops, order, not_before):
                raise _NoReattempt
            crews, live, result = _live_solve(plan, {route.pk: route}, stops, new_order=order, not_before=not_before)
            served = {s.order_id for r in result.routes for s in r.stops}
            if order.pk not in served or result.unassigned:
                raise _NoReattempt
            order_transition(
                actor=None, order=order, to_status=OrderStatus.RESCHEDULED, reason=f"re-attempt on route {route.pk}"
            )
            _write_live(plan, {route.pk: route}, crews, live, result, order, reason="re-attempt")
    except _NoReattempt:
        return None
    return Stop.objects.get(order_id=order_id, status__in=STOP_OPEN)


class _NoReattempt(Exception):
    """Leaves `plan_edit` without its version bump and board push: nothing changed."""


def _may_reattempt(plan: Plan, route: Route, stops: list[Stop], order: Order, not_before: dt.datetime) -> bool:
    """What must hold before the insertion test is worth running (checked under the locks)."""
    today = clock.now().astimezone(plan.hub.tz).date()
    return (
        order.status == OrderStatus.FAILED
        and plan.date == today
        and not route.broken_down
        and route.shift_ended_at is None
        and plan_crew_for_route(route=route) is not None
        and (order.window_end is None or order.window_end >= not_before)
        and not any(s.order_id == order.pk and s.status in STOP_OPEN for s in stops)
    )


def plan_order_cancelled(*, order_id: int) -> Plan | None:
    """Drop a cancelled order's stop from its plan and re-time the route."""
    # Only a stop still to serve leaves the route; failed or skipped ones stay as history.
    stop = Stop.objects.filter(order_id=order_id, status__in=STOP_OPEN).select_related("route").first()
    if stop is None:
        return None
    plan = Plan.objects.get(pk=stop.route.plan_id)
    if plan.status not in (PlanStatus.OPTIMIZED, PlanStatus.DISPATCHED):
        return None
    with plan_edit(plan=plan, expected_version=None) as plan:
        routes = {r.pk: r for r in routes_lock(plan=plan)}
        stops = stops_lock(routes=routes.values())
        stop = next(s for s in stops if s.pk == stop.pk)
        stop = stop_transition(
            actor=None, stop=stop, to_status=StopStatus.DROPPED, reason=f"Order {order_id} was cancelled."
        )
        route = routes[stop.route_id]
        remaining = sorted(
            (s for s in stops if s.route_id == route.pk and s.pk != stop.pk and s.status != StopStatus.DROPPED),
            key=lambda s: s.sequence,
        )
        routes_retime(plan=plan, changes={route: remaining}, force=True)
    return plan


def route_breakdown(*, actor: Actor, plan: Plan, route_id: int, expected_version: int | None) -> Plan:
    """A vehicle broke down: its remaining stops go to the other routes (or unassigned)."""
    with plan_edit(plan=plan, expected_version=expected_version) as plan:
        if plan.status != PlanStatus.DISPATCHED:
            raise ConflictError("Only a dispatched plan has vehicles on the road.", code="plan_not_dispatched")
        routes = {r.pk: r for r in routes_lock(plan=plan)}
        if route_id not in routes:
            raise FieldValidationError({"route_id": ["No such route on this plan."]})
        broken = routes[route_id]
        if broken.broken_down:
            raise ConflictError("This route's vehicle is already marked broken down.", code="route_broken_down")
        stops = _with_orders(stops_lock(routes=routes.values()))
        _live_reoptimise(plan, routes, stops, broken=broken)
        broken.broken_down = True
        broken.save(update_fields=["broken_down", "updated_at"])
    return plan


def is_urgent(payload: dict) -> bool:
    """Only urgent orders can join a live route; an event without a priority is checked in full."""
    return payload.get("priority", URGENT_PRIORITY) >= URGENT_PRIORITY


def on_order_created(payload: dict) -> None:
    """Outbox subscriber (urgent orders only, see `is_urgent`): insert into a live route."""
    plan_order_created(order_id=payload["order_id"])


def on_order_cancelled(payload: dict) -> None:
    plan_order_cancelled(order_id=payload["order_id"])


# An order moved at the door without the driver app (a dispatcher recording it through the order
# API) moves its stop the same way the app would have; the app's own actions (dispatch.execution)
# move both together, so the stop is already there (or closed) and nothing happens.
STOP_STATUS_FOR_ORDER = {
    ORDER_ARRIVED: StopStatus.ARRIVED,
    ORDER_DELIVERED: StopStatus.DONE,
    ORDER_FAILED: StopStatus.FAILED,
}
ORDER_STATUS_FOR_EVENT = {
    ORDER_ARRIVED: OrderStatus.ARRIVED,
    ORDER_DELIVERED: OrderStatus.DELIVERED,
    ORDER_FAILED: OrderStatus.FAILED,
}


def stop_progress(*, order_id: int, event: str) -> int:
    """Mark the order's live stop; returns how many stops changed (0 when it is on no route)."""
    target = STOP_STATUS_FOR_ORDER[event]
    with transaction.atomic():
        stop = (
            Stop.objects.select_for_update()
            .filter(order_id=order_id, status__in=[StopStatus.PLANNED, StopStatus.EN_ROUTE, StopStatus.ARRIVED])
            .exclude(status=target)
            .first()
        )
        if stop is None:
            return 0
        # The event is delivered after its commit; an order that has moved on since (a failed
        # delivery the policy re-planned onto a new stop) must not close that new stop.
        if Order.objects.filter(pk=order_id).values_list("status", flat=True).first() != ORDER_STATUS_FOR_EVENT[event]:
            return 0
        now = clock.now()
        fields = (
            {"arrived_at": now, "arrival_source": ArrivalSource.DISPATCHER}
            if target == StopStatus.ARRIVED
            else {"completed_at": now}
        )
        stop_transition(actor=None, stop=stop, to_status=target, reason=event, fields=fields)
    return 1


def on_order_progress(payload: dict, event: str) -> None:
    stop_progress(order_id=payload["order_id"], event=event)
