"""Manual edits of an optimized or dispatched plan by dispatchers.

Each edit is atomic: lock the plan (then routes, then stops, by pk), check `expected_version`,
change, re-time every affected route with the travel model, check it with the engine's
verifier, bump the version and push `plan.updated` to the board after commit. An edit that
breaks a rule (capacity per dimension, windows, shift end, breaks, range, skills) is refused
with the violations unless `force` is set; the route then carries its violations.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from accounts.tenancy import Actor
from common.errors import ConflictError, FieldValidationError
from common.realtime import board_publish
from dispatch.models import Plan, PlanStatus, PlanUnassigned, Route, Stop, StopStatus
from dispatch.models.planning import PLAN_TOTAL_FIELDS
from dispatch.network.travel import travel_provider
from dispatch.planning.selectors import plan_crew_for_route
from dispatch.planning.services.locks import plan_check_version, plan_lock, routes_lock, stops_lock
from dispatch.planning.services.plans import plan_totals_refresh, route_apply_timing
from dispatch.planning.services.transitions import stop_transition
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.services import order_transition
from routing.adapter import build_problem, time_route

EDITABLE = (PlanStatus.OPTIMIZED, PlanStatus.DISPATCHED)


class EditInfeasible(ConflictError):
    code = "edit_infeasible"


class EditRefused(ConflictError):
    code = "edit_refused"


@contextmanager
def plan_edit(*, plan: Plan, expected_version: int | None) -> Iterator[Plan]:
    """Lock, check the version and status, then after the edit: totals, version, push."""
    with transaction.atomic():
        locked = plan_lock(plan_id=plan.pk)
        plan_check_version(plan=locked, expected_version=expected_version)
        if locked.status not in EDITABLE:
            raise EditRefused(f"A {locked.status} plan cannot be edited.", code="plan_not_editable")
        yield locked
        plan_totals_refresh(plan=locked)
        locked.version += 1
        locked.save(update_fields=[*PLAN_TOTAL_FIELDS, "version", "updated_at"])
        board_publish(locked.hub_id, {"type": "plan.updated", "plan_id": locked.pk, "version": locked.version})


def _route(routes: dict[int, Route], route_id: int, field: str = "route_id") -> Route:
    if route_id not in routes:
        raise FieldValidationError({field: ["No such route on this plan."]})
    return routes[route_id]


def _stop(stops: list[Stop], stop_id: int) -> Stop:
    found = next((s for s in stops if s.pk == stop_id and s.status != StopStatus.DROPPED), None)
    if found is None:
        raise FieldValidationError({"stop_id": ["No such stop on this plan."]})
    return found


def _sequences(stops: list[Stop]) -> dict[int, list[Stop]]:
    out: dict[int, list[Stop]] = {}
    for stop in sorted(stops, key=lambda s: s.sequence):
        if stop.status != StopStatus.DROPPED:
            out.setdefault(stop.route_id, []).append(stop)
    return out


def routes_retime(*, plan: Plan, changes: dict[Route, list[Stop]], force: bool) -> dict[int, list[str]]:
    """Re-time routes with their new stop lists; refuse on violations unless `force`."""
    crews = {}
    for route in changes:
        crew = plan_crew_for_route(route=route)
        if crew is None:
            raise EditRefused(f"The driver of route {route.pk} has no shift on {plan.date}.", code="driver_off")
        crews[route.pk] = crew
    orders = Order.objects.filter(pk__in=[s.order_id for stops in changes.values() for s in stops])
    built = build_problem(
        hub=plan.hub, day=plan.date, crews=list(crews.values()), orders=list(orders), provider=travel_provider()
    )
    unplaceable = {u.order_id: u.message for u in built.rejected}
    timed, violations = {}, {}
    for route, stops in changes.items():
        ids = [s.order_id for s in stops if s.order_id not in unplaceable]
        timed[route.pk] = time_route(built, route.vehicle_id, ids)
        issues = timed[route.pk].violations + [f"order {i}: {unplaceable[i]}" for i in ids if i in unplaceable]
        if issues:
            violations[route.pk] = issues
    if violations and not force:
        raise EditInfeasible(
            "This change breaks the plan's rules; send force=true to make it anyway.",
            details={"violations": {str(k): v for k, v in violations.items()}},
        )
    for route, stops in changes.items():
        result = timed[route.pk]
        times = {s.order_id: s for s in result.stops}
        for k, stop in enumerate(stops, start=1):
            stop.route = route
            stop.sequence = k
            if stop.order_id in times:
                stop.planned_arrival = times[stop.order_id].planned_arrival
                stop.planned_departure = times[stop.order_id].planned_departure
        _save_sequence(stops)
        route_apply_timing(route=route, result=result, violations=violations.get(route.pk))
    return violations


# What re-timing changes on a stop; its status changes only through `stop_transition`.
STOP_TIMING_FIELDS = ["route", "sequence", "planned_arrival", "planned_departure", "updated_at"]


def _save_sequence(stops: list[Stop]) -> None:
    for stop in stops:
        stop.save(update_fields=STOP_TIMING_FIELDS)


def _movable(stop: Stop, route: Route) -> None:
    if stop.locked:
        raise EditRefused("This stop is locked; unlock it first.", code="stop_locked")
    if stop.is_fixed():
        raise EditRefused("This stop is done or under way and cannot move.", code="stop_fixed")
    if route.locked:
        raise EditRefused(f"Route {route.pk} is locked; unlock it first.", code="route_locked")


def stop_move(
    *,
    actor: Actor,
    plan: Plan,
    stop_id: int,
    route_id: int,
    position: int,
    expected_version: int | None,
    force: bool = False,
) -> Plan:
    """Move a stop to `position` (1-based) of a route (the same or another)."""
    with plan_edit(plan=plan, expected_version=expected_version) as plan:
        routes = {r.pk: r for r in routes_lock(plan=plan)}
        stops = stops_lock(routes=routes.values())
        stop = _stop(stops, stop_id)
        target = _route(routes, route_id)
        source = routes[stop.route_id]
        _movable(stop, source)
        _movable(stop, target)
        sequences = _sequences(stops)
        sequences.setdefault(target.pk, [])
        sequences[source.pk].remove(stop)
        if position < 1 or position > len(sequences[target.pk]) + 1:
            raise FieldValidationError({"position": [f"Must be between 1 and {len(sequences[target.pk]) + 1}."]})
        sequences[target.pk].insert(position - 1, stop)
        changed = {routes[pk]: sequences.get(pk, []) for pk in {source.pk, target.pk}}
        routes_retime(plan=plan, changes=changed, force=force)
    return plan


def stop_unassign(*, actor: Actor, plan: Plan, stop_id: int, expected_version: int | None) -> Plan:
    """Take a stop off its route; its order waits for a plan again."""
    with plan_edit(plan=plan, expected_version=expected_version) as plan:
        routes = {r.pk: r for r in routes_lock(plan=plan)}
        stops = stops_lock(routes=routes.values())
        stop = _stop(stops, stop_id)
        route = routes[stop.route_id]
        _movable(stop, route)
        stop_transition(
            actor=actor, stop=stop, to_status=StopStatus.DROPPED, reason="Taken off the plan by a dispatcher."
        )
        remaining = [s for s in _sequences(stops).get(route.pk, []) if s.pk != stop.pk]
        routes_retime(plan=plan, changes={route: remaining}, force=True)
        PlanUnassigned.objects.create(
            plan=plan, order_id=stop.order_id, reason="manual", message="Taken off the plan by a dispatcher."
        )
        order = Order.objects.get(pk=stop.order_id)
        if order.status in (OrderStatus.PLANNED, OrderStatus.DISPATCHED):
            order_transition(
                actor=actor, order=order, to_status=OrderStatus.VALIDATED, reason=f"unassigned from plan {plan.pk}"
            )
    return plan


def stop_lock_set(*, actor: Actor, plan: Plan, stop_id: int, locked: bool, expected_version: int | None) -> Plan:
    with plan_edit(plan=plan, expected_version=expected_version) as plan:
        stop = _stop(stops_lock(routes=routes_lock(plan=plan)), stop_id)
        stop.locked = locked
        stop.save(update_fields=["locked", "updated_at"])
    return plan


def route_lock_set(*, actor: Actor, plan: Plan, route_id: int, locked: bool, expected_version: int | None) -> Plan:
    with plan_edit(plan=plan, expected_version=expected_version) as plan:
        route = _route({r.pk: r for r in routes_lock(plan=plan)}, route_id)
        route.locked = locked
        route.save(update_fields=["locked", "updated_at"])
    return plan


def route_swap(
    *,
    actor: Actor,
    plan: Plan,
    route_id: int,
    other_route_id: int,
    swap: str,
    expected_version: int | None,
    force: bool = False,
) -> Plan:
    """Swap the drivers (`swap="driver"`) or vehicles (`"vehicle"`) of two routes, then re-time both."""
    if swap not in ("driver", "vehicle"):
        raise FieldValidationError({"swap": ["Must be driver or vehicle."]})
    with plan_edit(plan=plan, expected_version=expected_version) as plan:
        routes = {r.pk: r for r in routes_lock(plan=plan)}
        first, second = _route(routes, route_id), _route(routes, other_route_id, "other_route_id")
        if first.pk == second.pk:
            raise FieldValidationError({"other_route_id": ["Pick another route."]})
        for route in (first, second):
            if route.locked:
                raise EditRefused(f"Route {route.pk} is locked; unlock it first.", code="route_locked")
        stops = stops_lock(routes=[first, second])
        sequences = _sequences(stops)
        first_stops, second_stops = sequences.get(first.pk, []), sequences.get(second.pk, [])
        first.driver, second.driver = second.driver, first.driver
        if swap == "vehicle":
            # Trading vehicles is trading drivers and stops between the two rows: each row keeps
            # its vehicle, so the (plan, vehicle) constraint never sees a duplicate.
            first_stops, second_stops = second_stops, first_stops
        first.save(update_fields=["driver", "updated_at"])
        second.save(update_fields=["driver", "updated_at"])
        routes_retime(plan=plan, changes={first: first_stops, second: second_stops}, force=force)
    return plan
