"""The slot capacity formula: how many stops a hub's crews can serve in a window of the day.

Capacity of a slot instance (hub, day, template) is derived, never typed (docs/slots.md):

    leg_s            = LEG_SHARE_OF_RADIUS × radius_km × CIRCUITY / speed_kmh(vehicle type) × 3600
    stops_per_hour   = 3600 / (avg_service_s + leg_s)
    per crew         = min(overlap_h × stops_per_hour,  trip_stops × overlap_h / work_h)
    capacity         = floor(Σ per crew), then min(capacity, manual_cap)

A crew is a vehicle paired with a driver working that day (the planning pairing rule);
`overlap_h` is the slot's overlap with the driver's shift minus breaks, `work_h` the shift
minus breaks, and `trip_stops` how many average orders the vehicle carries at once
(min over kg, m³ and parcels): a vehicle is loaded once per shift, its load spread over it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Avg

from common import clock
from dispatch.models import Driver, Hub, SlotTemplate, Vehicle
from orders.lifecycle import OrderStatus
from orders.models import Order
from routing import SPEEDS_KMH
from routing.adapter import Crew

# Consecutive stops of a slot are much closer than the service radius. For n uniformly spread
# stops in a disc of radius R a tour measures ≈ 0.7124·√(n·πR²) (Beardwood–Halton–Hammersley),
# i.e. ≈ 0.25·R per leg for the ~25 stops a crew serves in the area in a busy slot.
LEG_SHARE_OF_RADIUS = 0.25
CIRCUITY = 1.3  # road distance / straight line, as the routing engine's offline travel model
DEFAULT_RADIUS_KM = 5.0
DEFAULT_SERVICE_MINUTES = 3.0  # the order default
DEFAULT_LOAD = {"kg": 2.5, "m3": 0.01, "parcels": 1.0}
HISTORY_DAYS = 28


@dataclass(frozen=True)
class HubProfile:
    """A hub's averages used by the capacity formula (recent orders, or defaults)."""

    radius_km: float
    service_s: float
    load: dict

    def leg_s(self, vehicle_type: str) -> float:
        speed = SPEEDS_KMH.get(vehicle_type, SPEEDS_KMH["car"])
        return LEG_SHARE_OF_RADIUS * self.radius_km * CIRCUITY / speed * 3600

    def stops_per_hour(self, vehicle_type: str) -> float:
        return 3600 / (self.service_s + self.leg_s(vehicle_type))


@dataclass
class Capacity:
    value: int
    derived: int
    crews: list[dict] = field(default_factory=list)


def hub_profile(*, hub: Hub) -> HubProfile:
    since = clock.now().date() - dt.timedelta(days=HISTORY_DAYS)
    recent = Order.objects.filter(hub=hub, delivery_date__gte=since).exclude(status=OrderStatus.CANCELLED)
    averages = recent.aggregate(
        service=Avg("service_minutes"), kg=Avg("load_kg"), m3=Avg("load_m3"), parcels=Avg("load_parcels")
    )
    load = {name: averages[name] or default for name, default in DEFAULT_LOAD.items()}
    return HubProfile(_radius_km(hub), (averages["service"] or DEFAULT_SERVICE_MINUTES) * 60, load)


def _radius_km(hub: Hub) -> float:
    if hub.service_radius_km:
        return hub.service_radius_km
    if hub.service_polygon and len(hub.service_polygon) >= 3:
        return math.sqrt(_polygon_km2(hub.service_polygon) / math.pi)
    return DEFAULT_RADIUS_KM


def _polygon_km2(points: list[list[float]]) -> float:
    lat0 = math.radians(sum(p[0] for p in points) / len(points))
    xy = [(p[1] * 111.32 * math.cos(lat0), p[0] * 110.57) for p in points]
    twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(xy, xy[1:] + xy[:1], strict=True))
    return abs(twice) / 2


@dataclass(frozen=True)
class HubFleet:
    """A hub's active drivers (with their day overrides) and vehicles, loaded once per request."""

    drivers: list[Driver]
    vehicles: list[Vehicle]


def hub_fleet(*, hub: Hub) -> HubFleet:
    drivers = Driver.objects.filter(organization_id=hub.organization_id, home_hub=hub, active=True)
    vehicles = Vehicle.objects.filter(organization_id=hub.organization_id, home_hub=hub, active=True)
    return HubFleet(
        list(drivers.prefetch_related("shift_overrides").order_by("name", "pk")),
        sorted(vehicles, key=lambda v: (-v.capacity_parcels, -v.capacity_kg, -v.capacity_m3, v.name, v.pk)),
    )


def crews_on(*, hub: Hub, day: dt.date, fleet: HubFleet | None = None) -> list[Crew]:
    """Vehicles paired with drivers working on `day`, by the rule of daily plans
    (`dispatch.planning.selectors.plan_crews`): the longest shift gets the biggest vehicle."""
    fleet = fleet or hub_fleet(hub=hub)
    working = [(driver, shift) for driver in fleet.drivers if (shift := driver.shift_on(day))]
    working.sort(key=lambda pair: _seconds(pair[1]["start"]) - _seconds(pair[1]["end"]))
    return [Crew(vehicle, driver, shift) for vehicle, (driver, shift) in zip(fleet.vehicles, working, strict=False)]


def _seconds(value) -> int:
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60
    hours, minutes = str(value).split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


def _work_intervals(shift: dict) -> list[tuple[int, int]]:
    """The shift as working intervals (s since midnight), breaks cut out."""
    intervals = [(_seconds(shift["start"]), _seconds(shift["end"]))]
    for brk in shift.get("breaks") or []:
        b0, b1 = _seconds(brk["start"]), _seconds(brk["end"])
        intervals = [piece for a, b in intervals for piece in ((a, min(b, b0)), (max(a, b1), b)) if piece[1] > piece[0]]
    return intervals


def window_capacity(*, profile: HubProfile, crews: list[Crew], start_s: int, end_s: int) -> Capacity:
    """Stops the crews can serve between two times of the day (s since midnight)."""
    total, parts = 0.0, []
    for crew in crews:
        work = _work_intervals(crew.shift)
        work_s = sum(b - a for a, b in work)
        overlap_s = sum(max(0, min(b, end_s) - max(a, start_s)) for a, b in work)
        if not overlap_s or not work_s:
            continue
        rate = profile.stops_per_hour(crew.vehicle.type)
        by_time = overlap_s / 3600 * rate
        by_load = _trip_stops(crew.vehicle, profile) * overlap_s / work_s
        total += min(by_time, by_load)
        parts.append(
            {
                "vehicle": crew.vehicle.pk,
                "driver": crew.driver.pk,
                "overlap_h": overlap_s / 3600,
                "stops_per_hour": round(rate, 3),
                "by_time": by_time,
                "by_load": by_load,
            }
        )
    derived = math.floor(total + 1e-9)
    return Capacity(derived, derived, parts)


def _trip_stops(vehicle, profile: HubProfile) -> float:
    limits = [
        capacity / profile.load[name]
        for name, capacity in (
            ("kg", vehicle.capacity_kg),
            ("m3", vehicle.capacity_m3),
            ("parcels", vehicle.capacity_parcels),
        )
        if capacity and profile.load[name]
    ]
    return min(limits) if limits else math.inf


def slot_capacity(*, template: SlotTemplate, day: dt.date, profile: HubProfile, crews: list[Crew]) -> Capacity:
    capacity = window_capacity(
        profile=profile, crews=crews, start_s=_seconds(template.start_time), end_s=_seconds(template.end_time)
    )
    if template.manual_cap is not None:
        capacity.value = min(capacity.value, template.manual_cap)
    return capacity
