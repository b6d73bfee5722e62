"""Plans: create, optimize (request side and worker side), cancel, recover stale runs, dispatch."""

import datetime as dt
import logging
import time
import uuid

from celery import signature
from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.tenancy import Actor
from common import clock, horizon
from common.errors import ConflictError, FieldValidationError
from common.heartbeat import heartbeat
from common.realtime import board_publish
from dispatch.models import Hub, Plan, PlanStatus, PlanUnassigned, Route, Stop, StopStatus
from dispatch.models.planning import PLAN_STALE_ERROR, PLAN_TOTAL_FIELDS
from dispatch.network.travel import travel_provider
from dispatch.planning.selectors import (
    PLANNABLE_ORDER_STATUSES,
    ROUTE_COLORS,
    plan_crew_for_route,
    plan_crews,
    plan_eligible_orders,
    plan_liveness,
    plan_stale_ids,
)
from dispatch.planning.services.locks import plan_check_version, plan_lock, routes_lock, stops_lock
from dispatch.planning.services.transitions import plan_created, plan_transition
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.services import order_transition
from routing.adapter import Built, PlanResult, RouteResult, build_problem, optimize

logger = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5
MAX_BIGINT = 2**62
# Enqueued by name: the tasks module imports the services, never the reverse.
PLAN_OPTIMIZE_TASK = "dispatch.planning.tasks.plan_optimize_task"


def plan_create(
    *,
    actor: Actor,
    hub: Hub,
    date: dt.date,
    wave: int | None = None,
    objective: str = "cost",
    time_budget_s: int = 5,
    allow_drop: bool = False,
) -> Plan:
    """A draft plan for a hub's day; without `wave`, the day's next wave."""
    if hub.organization_id != actor.organization.pk:
        raise FieldValidationError({"hub": ["Unknown hub."]})
    if problem := horizon.date_problem(date, tz=hub.tz):
        raise FieldValidationError({"date": [problem]})
    with transaction.atomic():
        if wave is None:
            last = Plan.objects.filter(hub=hub, date=date).aggregate(last=Max("wave"))["last"]
            wave = (last or 0) + 1
        plan = Plan(
            organization=actor.organization,
            hub=hub,
            date=date,
            wave=wave,
            objective=objective,
            time_budget_s=time_budget_s,
            allow_drop=allow_drop,
        )
        plan.full_clean(exclude=["organization", "hub"], validate_unique=False)
        try:
            with transaction.atomic():
                plan.save()
        except IntegrityError:
            raise FieldValidationError({"wave": [f"Wave {wave} of {date} already exists for this hub."]}) from None
        plan_created(plan, actor.label).save()
    return plan


def _enqueue_optimization(plan: Plan) -> None:
    task_id, args = plan.task_id, [plan.pk, plan.attempt]
    transaction.on_commit(lambda: signature(PLAN_OPTIMIZE_TASK).apply_async(args=args, task_id=task_id))


def plan_optimize(*, actor: Actor, plan: Plan, expected_version: int | None = None) -> Plan:
    """Start (or restart) optimizing in the background; the worker runs `plan_optimize_run`."""
    with transaction.atomic():
        plan = plan_lock(plan_id=plan.pk)
        plan_check_version(plan=plan, expected_version=expected_version)
        now = clock.now()
        if plan.is_stale(now=now, **plan_liveness()):
            plan = _fail_stale(plan)  # a retry of a run whose worker died, before the sweeper saw it
        if plan.status == PlanStatus.OPTIMIZING:  # one live attempt at a time
            raise ConflictError(
                "The plan is already being optimized; wait for it or cancel it.", code="plan_already_optimizing"
            )
        # The worker's claim sets `heartbeat_at`; until then the run waits in the queue.
        fresh_run = {
            "task_id": str(uuid.uuid4()),
            "attempt": plan.attempt + 1,
            "progress_pct": 0,
            "best_cost": None,
            "cancel_requested": False,
            "started_at": now,
            "heartbeat_at": None,
            "finished_at": None,
            "error": "",
            "message": "",
        }
        plan = plan_transition(actor=actor, plan=plan, to_status=PlanStatus.OPTIMIZING, fields=fresh_run)
        board_publish(plan.hub_id, _status_event("plan.progress", plan))
        _enqueue_optimization(plan)
    return plan


def plan_optimize_cancel(*, actor: Actor, plan: Plan) -> Plan:
    """Ask the running search to stop; it keeps the best routes found so far."""
    with transaction.atomic():
        plan = plan_lock(plan_id=plan.pk)
        if plan.status != PlanStatus.OPTIMIZING or plan.is_stale(now=clock.now(), **plan_liveness()):
            raise ConflictError("The plan is not being optimized.", code="plan_not_optimizing")
        plan.cancel_requested = True
        plan.save(update_fields=["cancel_requested", "updated_at"])
    return plan


def _status_event(kind: str, plan: Plan) -> dict:
    return {
        "type": kind,
        "plan_id": plan.pk,
        "status": plan.status,
        "version": plan.version,
        "progress_pct": plan.progress_pct,
        "best_cost": plan.best_cost,
        "message": plan.message,
        "error": plan.error,
    }


class _Progress:
    """Throttled progress, heartbeat and cancel flag for one running search."""

    def __init__(self, plan: Plan) -> None:
        self.plan_id, self.hub_id, self.budget_s = plan.pk, plan.hub_id, max(1, plan.time_budget_s)
        self.attempt = plan.attempt
        self.started = time.monotonic()
        self.last = 0.0
        self.best: int | None = None
        self.cancelled = self.abandoned = False

    def on_progress(self, elapsed_s: float, best_cost: float) -> None:
        self.best = min(int(best_cost), MAX_BIGINT)
        self.tick()

    def should_stop(self) -> bool:
        self.tick()
        # A cancel keeps the best routes so far, so it waits for the first solution.
        return self.abandoned or (self.cancelled and self.best is not None)

    def tick(self) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        pct = min(99, int((now - self.started) / self.budget_s * 100))
        live = _live(self.plan_id, self.attempt)
        if not live.update(progress_pct=pct, best_cost=self.best):
            self.abandoned = True  # failed as lost, or superseded: stop wasting the worker
            return
        self.cancelled = bool(live.values_list("cancel_requested", flat=True).first())
        board_publish(
            self.hub_id,
            {
                "type": "plan.progress",
                "plan_id": self.plan_id,
                "status": "optimizing",
                "progress_pct": pct,
                "best_cost": self.best,
                "elapsed_s": round(now - self.started, 1),
            },
        )


def plan_problem(*, plan: Plan) -> tuple[Built, list[Route]]:
    """The plan's routing problem: locked routes stay as they are, locked stops are pinned."""
    routes = list(
        plan.routes.select_related("vehicle", "driver", "plan").prefetch_related("stops", "driver__shift_overrides")
    )
    kept = [r for r in routes if r.locked]
    open_routes = [r for r in routes if not r.locked]
    crews = [crew for r in open_routes if (crew := plan_crew_for_route(route=r))]
    busy_vehicles = {r.vehicle_id for r in routes}
    busy_drivers = {r.driver_id for r in routes}
    crews += [c for c in plan_crews(plan=plan) if c.vehicle.pk not in busy_vehicles and c.driver.pk not in busy_drivers]
    live = [s for r in open_routes for s in r.stops.all() if s.status != StopStatus.DROPPED]
    pinned = {s.order_id: r.vehicle_id for r in open_routes for s in r.stops.all() if s.locked}
    order_ids = {s.order_id for s in live} | set(plan_eligible_orders(plan=plan).values_list("pk", flat=True))
    kept_orders = {s.order_id for r in kept for s in r.stops.all()}
    orders = list(Order.objects.filter(pk__in=order_ids - kept_orders).order_by("pk"))
    built = build_problem(
        hub=plan.hub,
        day=plan.date,
        crews=crews,
        orders=orders,
        objective=plan.objective,
        allow_drop=plan.allow_drop,
        pinned=pinned,
        provider=travel_provider(),
    )
    return built, kept


def _live(plan_id: int, attempt: int):
    """The plan while `attempt` is its running optimization (a conditional UPDATE writes nothing else)."""
    return Plan.objects.filter(pk=plan_id, attempt=attempt, status=PlanStatus.OPTIMIZING)


def plan_optimize_run(
    *, plan_id: int, attempt: int | None = None, max_iterations: int | None = None, seed: int | None = None
) -> Plan:
    """The worker side: claim the attempt, solve, then write routes, stops and unassigned orders atomically.

    Idempotent: a plan that is no longer optimizing (done, failed), a superseded attempt (None: the
    current one), or an attempt another delivery already claimed, is left alone. `max_iterations`
    and `seed` make the search repeatable whatever the machine's load (the day simulator's runs).
    """
    plan = Plan.objects.select_related("hub", "organization").get(pk=plan_id)
    if plan.status != PlanStatus.OPTIMIZING or attempt not in (None, plan.attempt):
        return plan
    attempt = plan.attempt
    # The claim: one worker per attempt, however often its message is delivered.
    if not _live(plan_id, attempt).filter(heartbeat_at__isnull=True).update(heartbeat_at=clock.now()):
        return plan_mark_stale(plan=Plan.objects.get(pk=plan_id))  # a dead claimant's run is recorded failed
    built, kept = plan_problem(plan=plan)
    if not built.problem.jobs and not built.rejected and not kept:
        nothing = "Nothing to plan: no eligible orders for this hub and day."
        return _finish(plan_id, attempt, built, None, message=nothing)
    progress = _Progress(plan)
    try:
        # Liveness rides on time, not on improvements: a search may improve nothing for minutes.
        with heartbeat(lambda: _live(plan_id, attempt).update(heartbeat_at=clock.now())):
            result = optimize(
                built,
                budget_s=plan.time_budget_s,
                seed=plan.pk if seed is None else seed,
                max_iterations=max_iterations,
                on_progress=progress.on_progress,
                should_stop=progress.should_stop,
            )
    except Exception as exc:
        logger.exception("Optimizing plan %s failed", plan_id)
        return plan_fail(plan_id=plan_id, attempt=attempt, error=f"The optimizer failed: {exc}"[:500])
    return _finish(plan_id, attempt, built, result)


def plan_fail(*, plan_id: int, error: str, attempt: int | None = None) -> Plan:
    with transaction.atomic():
        plan = plan_lock(plan_id=plan_id)
        if plan.status != PlanStatus.OPTIMIZING or attempt not in (None, plan.attempt):
            return plan
        fields = {"error": error, "finished_at": clock.now()}
        plan = plan_transition(actor=None, plan=plan, to_status=PlanStatus.FAILED, reason=error, fields=fields)
        board_publish(plan.hub_id, _status_event("plan.failed", plan))
    return plan


def _fail_stale(plan: Plan) -> Plan:
    """Record the failure of a run whose worker died (the caller holds the plan's lock)."""
    plan = plan_transition(
        actor=None,
        plan=plan,
        to_status=PlanStatus.FAILED,
        reason="The optimizer stopped responding.",
        fields={"error": PLAN_STALE_ERROR, "finished_at": plan.last_heard_at()},
    )
    board_publish(plan.hub_id, _status_event("plan.failed", plan))
    return plan


def plan_mark_stale(*, plan: Plan, now: dt.datetime | None = None) -> Plan:
    """Record an optimization whose worker died as failed, so it can be retried (the sweeper's write)."""
    now = now or clock.now()
    liveness = plan_liveness()
    if not plan.is_stale(now=now, **liveness):
        return plan
    with transaction.atomic():
        locked = plan_lock(plan_id=plan.pk)
        if not locked.is_stale(now=now, **liveness):
            return locked
        return _fail_stale(locked)


def plan_sweep_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Periodic: mark every stale optimization failed; returns the plan ids it changed."""
    now = now or clock.now()
    changed = []
    for plan_id in plan_stale_ids(now=now):
        plan = plan_mark_stale(plan=Plan.objects.get(pk=plan_id), now=now)
        if plan.status == PlanStatus.FAILED:
            changed.append(plan_id)
    return changed


def _finish(plan_id: int, attempt: int, built: Built, result: PlanResult | None, message: str = "") -> Plan:
    with transaction.atomic():
        plan = plan_lock(plan_id=plan_id)
        if plan.status != PlanStatus.OPTIMIZING or plan.attempt != attempt:
            return plan  # failed as lost, or superseded by a newer attempt meanwhile: the late result is discarded
        routes = routes_lock(plan=plan)
        stops_lock(routes=routes)
        if result is not None:
            _replace_routes(plan, built, result, [r for r in routes if not r.locked])
        plan_totals_refresh(plan=plan)
        fields = {name: getattr(plan, name) for name in PLAN_TOTAL_FIELDS}
        fields.update(progress_pct=100, finished_at=clock.now(), message=message)
        if result is not None and plan.best_cost is None:
            fields["best_cost"] = result.cost
        # Its `plan_optimized` event lets tracking raise a capacity-overflow exception when orders did not fit.
        plan = plan_transition(actor=None, plan=plan, to_status=PlanStatus.OPTIMIZED, reason=message, fields=fields)
        board_publish(plan.hub_id, _status_event("plan.optimized", plan))
    return plan


def _replace_routes(plan: Plan, built: Built, result: PlanResult, old_routes: list[Route]) -> None:
    before = set(
        Stop.objects.filter(route__in=old_routes).exclude(status=StopStatus.DROPPED).values_list("order_id", flat=True)
    )
    Route.objects.filter(pk__in=[r.pk for r in old_routes]).delete()
    plan.unassigned.all().delete()
    wanted = {s.order_id for r in result.routes for s in r.stops} | {u.order_id for u in result.unassigned}
    orders = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=wanted | before).order_by("pk")}
    unavailable = []
    placed: set[int] = set()
    color_start = plan.routes.count()
    for k, route in enumerate(result.routes):
        usable = [
            s for s in route.stops if orders[s.order_id].status in (*PLANNABLE_ORDER_STATUSES, OrderStatus.PLANNED)
        ]
        unavailable += [s.order_id for s in route.stops if s not in usable]
        route.stops = usable
        if usable:
            route_create(
                plan=plan, built=built, result=route, color=ROUTE_COLORS[(color_start + k) % len(ROUTE_COLORS)]
            )
            placed.update(s.order_id for s in usable)
    changed = "The order changed while the plan was optimized."
    PlanUnassigned.objects.bulk_create(
        [PlanUnassigned(plan=plan, order_id=u.order_id, reason=u.reason, message=u.message) for u in result.unassigned]
        + [PlanUnassigned(plan=plan, order_id=i, reason="unavailable", message=changed) for i in unavailable]
    )
    for order_id in sorted(placed):
        if orders[order_id].status != OrderStatus.PLANNED:
            order_transition(
                actor=None, order=orders[order_id], to_status=OrderStatus.PLANNED, reason=f"plan {plan.pk}"
            )
    for order_id in sorted(before - placed):
        if orders[order_id].status == OrderStatus.PLANNED:
            order_transition(
                actor=None,
                order=orders[order_id],
                to_status=OrderStatus.VALIDATED,
                reason=f"left out of plan {plan.pk}",
            )


def route_create(*, plan: Plan, built: Built, result: RouteResult, color: str) -> Route:
    crew = built.crews[result.vehicle_id]
    route = Route.objects.create(plan=plan, vehicle=crew.vehicle, driver=crew.driver, color=color)
    route_apply_timing(route=route, result=result)
    Stop.objects.bulk_create(
        [
            Stop(
                route=route,
                order_id=s.order_id,
                sequence=s.sequence,
                planned_arrival=s.planned_arrival,
                planned_departure=s.planned_departure,
            )
            for s in result.stops
        ]
    )
    return route


def route_apply_timing(*, route: Route, result: RouteResult, violations: list[str] | None = None) -> None:
    """Copy a timed route's figures onto the row (the caller holds its lock)."""
    route.distance_m, route.duration_s, route.cost = result.distance_m, result.duration_s, result.cost
    route.emissions_g = result.emissions_g
    route.load_kg, route.load_dm3, route.load_parcels = result.load["kg"], result.load["dm3"], result.load["parcels"]
    route.start_time, route.end_time = result.start_time, result.end_time
    route.breaks = [{"start": b.start.isoformat(), "end": b.end.isoformat()} for b in result.breaks]
    route.violations = list(violations or [])
    route.save()


def plan_totals_refresh(*, plan: Plan) -> None:
    """Recount the totals over the plan's routes onto the row (not saved: see PLAN_TOTAL_FIELDS)."""
    routes = list(plan.routes.all())
    plan.total_distance_m = sum(r.distance_m for r in routes)
    plan.total_duration_s = sum(r.duration_s for r in routes)
    plan.total_cost = sum(r.cost for r in routes)
    plan.total_emissions_g = round(sum(r.emissions_g for r in routes), 1)
    plan.stop_count = Stop.objects.filter(route__plan=plan).exclude(status=StopStatus.DROPPED).count()
    plan.unassigned_count = plan.unassigned.count()


def plan_dispatch(*, actor: Actor, plan: Plan, expected_version: int | None = None) -> Plan:
    """Release the plan to the drivers: its orders become dispatched."""
    with transaction.atomic():
        plan = plan_lock(plan_id=plan.pk)
        plan_check_version(plan=plan, expected_version=expected_version)
        plan = plan_transition(
            actor=actor, plan=plan, to_status=PlanStatus.DISPATCHED, fields={"dispatched_at": clock.now()}
        )
        stops = Stop.objects.filter(route__plan=plan).exclude(status=StopStatus.DROPPED).select_related("order")
        for stop in sorted(stops, key=lambda s: s.order_id):
            if stop.order.status == OrderStatus.PLANNED:
                order_transition(
                    actor=actor, order=stop.order, to_status=OrderStatus.DISPATCHED, reason=f"plan {plan.pk}"
                )
        board_publish(plan.hub_id, _status_event("plan.dispatched", plan))
    return plan
