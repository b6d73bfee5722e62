"""The JSON that plans, routes, stops and the live screens were sent before the serializers.

These are the hand-built dicts `dispatch/planning/selectors.py`, `tracking/selectors/` and
`tracking/payloads.py` returned until issue 11 (main at b72fde0), kept verbatim as the reference the
serializers must reproduce: same keys, same value types, same formats. A deliberate change of a
shape changes its reference here too, in the same commit.
"""

import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder

from common import clock
from dispatch.models import Plan, PlanStatus, Route, Stop, StopStatus
from dispatch.network.selectors import hub_list
from dispatch.planning.selectors import plan_list
from tracking.models import LatestPosition, StopEta
from tracking.payloads import CLOSED_STATUSES, customer_driver, position_values
from tracking.selectors.itinerary import next_stop
from tracking.selectors.tower import DRIVER_RECENT, exception_list_open, kpis_for_day, organization_today, stop_state
from tracking.selectors.tracking_page import order_live_stop


def exact(value):
    """`value` as JSON would carry it, each scalar tagged with its type: 1 and 1.0, True and 1 differ."""
    return _tagged(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def _tagged(value):
    if isinstance(value, dict):
        return {key: _tagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    return (type(value).__name__, value)


# --- Plans (dispatch/planning/selectors.py) ------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def plan_summary(plan: Plan) -> dict:
    return {
        "id": plan.pk,
        "hub": {
            "id": plan.hub_id,
            "code": plan.hub.code,
            "name": plan.hub.name,
            "lat": plan.hub.lat,
            "lng": plan.hub.lng,
            "timezone": plan.hub.timezone,
        },
        "date": plan.date.isoformat(),
        "wave": plan.wave,
        "objective": plan.objective,
        "time_budget_s": plan.time_budget_s,
        "allow_drop": plan.allow_drop,
        "status": plan.status,
        "version": plan.version,
        "progress": {
            "progress_pct": plan.progress_pct,
            "best_cost": plan.best_cost,
            "task_id": plan.task_id,
            "cancel_requested": plan.cancel_requested,
            "started_at": _iso(plan.started_at),
            "heartbeat_at": _iso(plan.heartbeat_at),
            "finished_at": _iso(plan.finished_at),
        },
        "error": plan.error,
        "message": plan.message,
        "dispatched_at": _iso(plan.dispatched_at),
        "totals": {
            "distance_m": plan.total_distance_m,
            "duration_s": plan.total_duration_s,
            "cost": plan.total_cost,
            "emissions_g": plan.total_emissions_g,
            "stops": plan.stop_count,
            "unassigned": plan.unassigned_count,
        },
    }


def _stop(stop: Stop) -> dict:
    order = stop.order
    return {
        "id": stop.pk,
        "order_id": order.pk,
        "merchant_reference": order.merchant_reference,
        "sequence": stop.sequence,
        "status": stop.status,
        "locked": stop.locked,
        "planned_arrival": _iso(stop.planned_arrival),
        "planned_departure": _iso(stop.planned_departure),
        "customer_name": order.customer_name,
        "address": order.address_text,
        "lat": order.lat,
        "lng": order.lng,
        "time_windows": order.time_windows,
        "instructions": order.instructions,
        "load": {"kg": order.load_kg, "m3": order.load_m3, "parcels": order.load_parcels},
    }


def route_detail(route: Route) -> dict:
    vehicle = route.vehicle
    return {
        "id": route.pk,
        "color": route.color,
        "vehicle": {"id": vehicle.pk, "name": vehicle.name, "type": vehicle.type},
        "driver": {"id": route.driver.pk, "name": route.driver.name} if route.driver else None,
        "locked": route.locked,
        "broken_down": route.broken_down,
        "distance_m": route.distance_m,
        "duration_s": route.duration_s,
        "cost": route.cost,
        "emissions_g": route.emissions_g,
        "load": {"kg": route.load_kg, "dm3": route.load_dm3, "parcels": route.load_parcels},
        "capacity": {
            "kg": vehicle.capacity_kg,
            "dm3": round(vehicle.capacity_m3 * 1000),
            "parcels": vehicle.capacity_parcels,
        },
        "start_time": _iso(route.start_time),
        "end_time": _iso(route.end_time),
        "shift": route.driver.shift_on(route.plan.date) if route.driver else None,
        "breaks": route.breaks,
        "violations": route.violations,
        "stops": [_stop(s) for s in route.stops.all()],
        "path": straight_path(route, [{"lat": s.order.lat, "lng": s.order.lng} for s in route.stops.all()]),
    }


def plan_snapshot(plan: Plan) -> dict:
    """The whole plan as plain data (API answer and board state); `plan` from `plan_get`."""
    return {
        **plan_summary(plan),
        "routes": [route_detail(r) for r in plan.routes.all()],
        "unassigned": [
            {
                "order_id": u.order_id,
                "merchant_reference": u.order.merchant_reference,
                "reason": u.reason,
                "message": u.message,
                "lat": u.order.lat,
                "lng": u.order.lng,
            }
            for u in plan.unassigned.all()
        ],
    }


def board_snapshot(*, organization, hub_id: int, since: dt.date) -> dict:
    plans = plan_list(organization=organization).filter(hub_id=hub_id, date__gte=since).order_by("date", "wave")
    return {"type": "board.snapshot", "hub_id": hub_id, "plans": [plan_summary(p) for p in plans]}


def driver_routes_answer(day: dt.date, routes) -> dict:
    return {
        "date": day.isoformat(),
        "routes": [
            {**route_detail(r), "plan_id": r.plan_id, "hub": r.plan.hub.name, "wave": r.plan.wave} for r in routes
        ],
    }


# --- The control tower (tracking/selectors/tower.py, tracking/payloads.py) ------------------------


def exception_payload(exception) -> dict:
    return {
        "id": exception.pk,
        "kind": exception.kind,
        "severity": exception.severity,
        "status": exception.status,
        "message": exception.message,
        "suggested_actions": exception.suggested_actions,
        "order_id": exception.order_id,
        "route_id": exception.route_id,
        "driver_id": exception.driver_id,
        "assigned_to": exception.assigned_to.username if exception.assigned_to else None,
        "created_at": exception.created_at.isoformat(),
    }


def tower_routes(*, organization, day: dt.date) -> list[Route]:
    plans = plan_list(organization=organization, date=day).filter(status=PlanStatus.DISPATCHED)
    return list(
        Route.objects.filter(plan__in=plans)
        .select_related("plan__hub", "driver", "vehicle")
        .prefetch_related("stops__order", "stops__eta")
        .order_by("plan__hub_id", "pk")
    )


def straight_path(route: Route, rows: list[dict]) -> list[list[float]]:
    """Hub, stops, hub: the great-circle model draws straight lines."""
    if not rows:
        return []
    hub = [round(route.plan.hub.lat, 6), round(route.plan.hub.lng, 6)]
    return [hub, *([round(r["lat"], 6), round(r["lng"], 6)] for r in rows), hub]


def route_payload(route: Route) -> dict:
    stops = sorted((s for s in route.stops.all() if s.status != StopStatus.DROPPED), key=lambda s: s.sequence)
    rows = []
    for stop in stops:
        stop_eta = getattr(stop, "eta", None)
        rows.append(
            {
                "id": stop.pk,
                "order_id": stop.order_id,
                "reference": stop.order.merchant_reference,
                "sequence": stop.sequence,
                "lat": stop.order.lat,
                "lng": stop.order.lng,
                "status": stop.status,
                "order_status": stop.order.status,
                "state": stop_state(stop, stop_eta),
                "planned_arrival": stop.planned_arrival.isoformat(),
                "eta": stop_eta.eta.isoformat() if stop_eta else None,
                "late": bool(stop_eta and stop_eta.late),
            }
        )
    done = sum(1 for row in rows if row["state"] in ("delivered", "failed"))
    return {
        "id": route.pk,
        "plan_id": route.plan_id,
        "hub_id": route.plan.hub_id,
        "color": route.color,
        "driver_id": route.driver_id,
        "driver_name": route.driver.name if route.driver else None,
        "vehicle": route.vehicle.name,
        "done": done,
        "total": len(rows),
        "stops": rows,
        "path": straight_path(route, rows),
    }


def tower_snapshot(*, organization, day: dt.date | None = None) -> dict:
    """Everything the control tower draws on connect: hubs, drivers, routes, KPIs, open exceptions."""
    day = day or organization_today(organization)
    routes = [route_payload(route) for route in tower_routes(organization=organization, day=day)]
    route_of_driver = {route["driver_id"]: route for route in routes if route["driver_id"]}
    drivers = []
    latest = LatestPosition.objects.filter(
        organization=organization, recorded_at__gte=clock.now() - DRIVER_RECENT
    ).select_related("driver")
    for position in latest:
        route = route_of_driver.get(position.driver_id)
        drivers.append(
            {
                "type": "driver.position",
                "driver_id": position.driver_id,
                "driver_name": position.driver.name,
                "hub_id": route["hub_id"] if route else position.driver.home_hub_id,
                "route_id": route["id"] if route else None,
                **position_values(position),
            }
        )
    hubs = [
        {"id": hub.pk, "name": hub.name, "code": hub.code, "lat": hub.lat, "lng": hub.lng, "timezone": hub.timezone}
        for hub in hub_list(organization=organization)
    ]
    return {
        "type": "snapshot",
        "date": day.isoformat(),
        "hubs": hubs,
        "drivers": drivers,
        "routes": routes,
        "kpis": kpis_for_day(organization=organization, day=day),
        "exceptions": [exception_payload(e) for e in exception_list_open(organization=organization)[:200]],
    }


# --- The customer's tracking page (tracking/selectors/tracking_page.py) ---------------------------


def tracking_snapshot(order) -> dict:
    """What the customer's page shows: status, the ETA window, and the driver only when heading here."""
    snapshot = {
        "type": "snapshot",
        "status": order.status,
        "eta_window_start": None,
        "eta_window_end": None,
        "driver": None,
        "path": [],
    }
    stop = order_live_stop(order)
    if stop is None or order.status in CLOSED_STATUSES or stop.status == StopStatus.DONE:
        return snapshot
    stop_eta = StopEta.objects.filter(stop=stop).first()
    if stop_eta is not None:
        snapshot["eta_window_start"] = stop_eta.window_start.isoformat()
        snapshot["eta_window_end"] = stop_eta.window_end.isoformat()
    driver = stop.route.driver
    if driver is None:
        return snapshot
    heading = next_stop(driver)
    position = LatestPosition.objects.filter(driver=driver).first()
    if heading is not None and heading.pk == stop.pk and position is not None:
        snapshot["driver"] = customer_driver(driver, position_values(position))
        here, there = (position.lat, position.lng), (order.lat, order.lng)
        snapshot["path"] = [[round(here[0], 6), round(here[1], 6)], [round(there[0], 6), round(there[1], 6)]]
    return snapshot
