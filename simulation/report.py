"""The day's figures, as a dict ready for JSON: sorted keys, floats rounded, no database ids.

Everything in `day_report` follows from the seed; how long the machine took (optimisation, the
whole run) is in `wall_clock_report`, kept apart so two reports of one seed compare byte for byte.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from decimal import Decimal

from dispatch.models import Route, Stop, StopStatus
from notifications.models import Message, MessageStatus
from orders.models import Order
from simulation.engine import Simulation
from simulation.etas import HORIZONS_MIN
from tracking.models import DeliveryException

ATTEMPTED = (StopStatus.DONE, StopStatus.FAILED)


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def _error_stats(errors_s: list[float]) -> dict:
    if not errors_s:
        return {"count": 0, "mean_min": None, "mae_min": None, "p90_abs_min": None}
    absolute = sorted(abs(e) for e in errors_s)
    p90 = absolute[min(len(absolute) - 1, math.ceil(0.9 * len(absolute)) - 1)]
    return {
        "count": len(errors_s),
        "mean_min": _r(sum(errors_s) / len(errors_s) / 60),
        "mae_min": _r(sum(absolute) / len(absolute) / 60),
        "p90_abs_min": _r(p90 / 60),
    }


def _first_attempt_success(stops: list[Stop]) -> float | None:
    first: dict[int, str] = {}
    for stop in sorted(stops, key=lambda s: (s.completed_at, s.pk)):
        first.setdefault(stop.order_id, stop.status)
    return _r(sum(1 for status in first.values() if status == StopStatus.DONE) / len(first)) if first else None


def _on_time(simulation: Simulation, stops: dict[int, Stop]) -> tuple[float | None, dict]:
    """Service start inside the promised window; lateness in minutes past the window's end."""
    late_min = []
    for driver in simulation.drivers:
        for stop_id, start in driver.tally.service_starts.items():
            order = stops[stop_id].order if stop_id in stops else None
            if order is None or order.window_end is None:
                continue
            late_min.append(max(0.0, (start - order.window_end).total_seconds() / 60))
    if not late_min:
        return None, {}
    late = sorted(m for m in late_min if m > 0)
    buckets = Counter("0-15" if m <= 15 else "15-30" if m <= 30 else "30-60" if m <= 60 else "60+" for m in late)
    return _r(1 - len(late) / len(late_min)), {"late_stops": len(late), "late_by_min": dict(sorted(buckets.items()))}


def _costs(simulation: Simulation) -> dict:
    routes = {
        r.pk: r for r in Route.objects.filter(pk__in=[d.route_id for d in simulation.drivers]).select_related("vehicle")
    }
    cost, co2_g = Decimal(0), 0.0
    for driver in simulation.drivers:
        vehicle = routes[driver.route_id].vehicle
        km = driver.tally.distance_m / 1000
        hours = _shift_s(driver) / 3600
        cost += vehicle.cost_per_km * Decimal(str(round(km, 3))) + vehicle.cost_per_hour * Decimal(str(round(hours, 3)))
        co2_g += vehicle.emissions_g_co2_per_km * km
    return {"cost": _r(cost, 2), "co2_kg": _r(co2_g / 1000)}


def _shift_s(driver) -> float:
    tally = driver.tally
    if tally.shift_started is None or tally.shift_ended is None:
        return 0.0
    return (tally.shift_ended - tally.shift_started).total_seconds()


def day_report(simulation: Simulation) -> dict:
    world, scenario = simulation.world, simulation.scenario
    organization = world.organization
    orders = Order.objects.filter(organization=organization)
    statuses = Counter(orders.values_list("status", flat=True))
    stops = list(
        Stop.objects.filter(route__plan__organization=organization, status__in=ATTEMPTED).select_related("order")
    )
    by_id = {s.pk: s for s in stops}
    on_time, lateness = _on_time(simulation, by_id)
    shift_h = sum(_shift_s(d) for d in simulation.drivers) / 3600
    driving_h = sum(d.tally.driving_s for d in simulation.drivers) / 3600
    service_h = sum(d.tally.service_s for d in simulation.drivers) / 3600
    arrivals = {stop_id: at for d in simulation.drivers for stop_id, at in d.tally.arrivals.items()}
    errors = simulation.etas.errors_s(arrivals)
    messages = Message.objects.filter(organization=organization, status=MessageStatus.SENT)
    exceptions = DeliveryException.objects.filter(organization=organization)
    return {
        "scenario": {
            "seed": scenario.seed,
            "date": scenario.date.isoformat(),
            "orders": scenario.orders,
            "hubs": scenario.hubs,
            "vehicles": scenario.vehicles,
            "failure_rate": scenario.failure_rate,
            "traffic_noise": scenario.traffic_noise,
            "strategy": scenario.strategy,
            "position_interval_s": scenario.position_interval_s,
            "check_interval_s": scenario.check_interval_s,
            "plan_iterations": scenario.plan_iterations,
        },
        "orders": {
            "total": sum(statuses.values()),
            "by_status": dict(sorted(statuses.items())),
            "delivered": statuses.get("delivered", 0),
            "failed": statuses.get("failed", 0),
            "returned": statuses.get("returned", 0),
            "rescheduled": statuses.get("rescheduled", 0),
            "unplanned": sum(p.unassigned_count for p in world.plans),
        },
        "attempts": {
            "total": len(stops),
            "failed_by_reason": dict(sorted(Counter(s.failure_reason for s in stops if s.failure_reason).items())),
            "first_attempt_success": _first_attempt_success(stops),
        },
        "on_time_rate": on_time,
        "lateness": lateness,
        "eta_error": {f"{h}_min": _error_stats(errors[h]) for h in HORIZONS_MIN},
        "fleet": {
            "routes": len(simulation.drivers),
            "km": _r(sum(d.tally.distance_m for d in simulation.drivers) / 1000),
            "planned_km": _r(sum(p.total_distance_m for p in world.plans) / 1000),
            "shift_hours": _r(shift_h),
            "driving_hours": _r(driving_h),
            "service_hours": _r(service_h),
            "idle_hours": _r(max(0.0, shift_h - driving_h - service_h)),
            "stops_per_hour": _r(len(stops) / shift_h) if shift_h else None,
            **_costs(simulation),
        },
        "exceptions": {
            "total": exceptions.count(),
            "by_kind": dict(sorted(Counter(exceptions.values_list("kind", flat=True)).items())),
        },
        "notifications": {
            "sent": messages.count(),
            "by_kind": dict(sorted(Counter(messages.values_list("kind", flat=True)).items())),
        },
    }


def wall_clock_report(*, optimisation_s: float, run_s: float, total_s: float) -> dict:
    return {"optimisation_s": _r(optimisation_s, 2), "simulation_s": _r(run_s, 2), "total_s": _r(total_s, 2)}


def report_json(report: dict) -> str:
    return json.dumps(report, sort_keys=True, indent=2) + "\n"
