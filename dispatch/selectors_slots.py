"""Reads for delivery slots: templates, derived capacity, and what a checkout may book.

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
import functools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum

from common import clock
from common.errors import UnprocessableError
from common.geo import haversine_m
from dispatch.models import (
    ACTIVE_STATUSES,
    Driver,
    HoldStatus,
    Hub,
    Plan,
    SlotHold,
    SlotTemplate,
    Stop,
    StopStatus,
    Vehicle,
)
from dispatch.selectors import hub_list
from dispatch.slot_problems import DayRoutes, Insertion, StopRow, day_routes, insertion_for
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
# Orders in these statuses occupy their slot (and a place on a route) for the day.
COMMITTED_STATUSES = (OrderStatus.VALIDATED, OrderStatus.PLANNED, OrderStatus.DISPATCHED, OrderStatus.RESCHEDULED)
MAX_RANGE_DAYS = 14


class OutsideServiceArea(UnprocessableError):
    code = "address_outside_service_area"


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


@dataclass
class SlotOffer:
    template: SlotTemplate
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    capacity: int
    remaining: int
    reason: str | None = None
    insertion: Insertion | None = None

    @property
    def available(self) -> bool:
        return self.reason is None


@dataclass
class Availability:
    hub: Hub
    slots: list[SlotOffer]


def slot_template_list(*, organization, hub: Hub | None = None) -> QuerySet[SlotTemplate]:
    templates = SlotTemplate.objects.filter(organization=organization).select_related("hub")
    return templates.filter(hub=hub) if hub is not None else templates


def slot_hold_list(*, organization) -> QuerySet[SlotHold]:
    return SlotHold.objects.filter(organization=organization).select_related("hub", "template", "template__hub")


def hub_for_point(*, organization, lat: float, lng: float, hub: Hub | None = None) -> Hub:
    """The hub serving a point: the given one if it covers it, else the nearest covering one."""
    candidates = (
        [hub]
        if hub is not None
        else sorted(hub_list(organization=organization), key=lambda h: haversine_m(h.lat, h.lng, lat, lng))
    )
    for candidate in candidates:
        if candidate.covers(lat, lng):
            return candidate
    where = f"hub '{hub.code}'" if hub is not None else "any hub"
    raise OutsideServiceArea(
        f"The address ({lat:.5f}, {lng:.5f}) is outside the service area of {where}; no slot can be offered.",
        details={"lat": lat, "lng": lng, "hub": hub.code if hub else None},
    )


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
    (`selectors_planning.plan_crews`): the longest shift gets the biggest vehicle."""
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


def committed_orders(*, hub: Hub, day: dt.date, exclude_order_id: int | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(hub=hub, delivery_date=day, status__in=COMMITTED_STATUSES)
    return orders.exclude(pk=exclude_order_id) if exclude_order_id else orders


def active_holds(*, hub: Hub, day: dt.date, now: dt.datetime) -> QuerySet[SlotHold]:
    return SlotHold.objects.filter(hub=hub, date=day, status=HoldStatus.ACTIVE, expires_at__gt=now)


@dataclass
class DayState:
    """What is taken on one hub's day: orders per slot, active holds, and the routes on demand."""

    orders_in: dict[int, int]  # template id -> committed orders starting in its slot
    holds_in: dict[int, int]  # template id -> active holds
    routes: Callable[[], DayRoutes]


def slot_day_state(*, hub: Hub, day: dt.date, now: dt.datetime, crews: list[Crew], templates) -> DayState:
    # One aggregate instead of loading the day's orders: it counts them per slot and fingerprints
    # them (count, id sum, latest change) for the routes cache.
    orders = committed_orders(hub=hub, day=day)
    windows = {t.pk: t.window(day) for t in templates}
    per_slot = {
        f"slot_{pk}": Count("pk", filter=Q(window_start__gte=s, window_start__lt=e)) for pk, (s, e) in windows.items()
    }
    totals = orders.aggregate(count=Count("pk"), ids=Sum("pk"), changed=Max("updated_at"), **per_slot)
    holds = list(active_holds(hub=hub, day=day, now=now).values_list("pk", "template_id", "updated_at"))
    plans = list(
        Plan.objects.filter(hub=hub, date=day, status__in=ACTIVE_STATUSES).order_by("pk").values_list("pk", "version")
    )
    crew_key = tuple((c.vehicle.pk, c.vehicle.updated_at, c.driver.pk, str(c.shift)) for c in crews)
    fingerprint = ((totals["count"], totals["ids"], totals["changed"]), tuple(holds), crew_key, tuple(plans))

    def load():
        # Plain rows, not model instances: a rebuild loads hundreds of orders.
        stops = [StopRow(*row) for row in orders.values_list(*StopRow.ORDER_FIELDS)]
        for hold in active_holds(hub=hub, day=day, now=now):
            window = [{"start": hold.start.isoformat(), "end": hold.end.isoformat()}]
            stops.append(
                StopRow(
                    -hold.pk,
                    hold.lat,
                    hold.lng,
                    window,
                    hold.service_minutes,
                    hold.load_kg,
                    hold.load_m3,
                    hold.load_parcels,
                )
            )
        planned = (
            Stop.objects.filter(route__plan__in=[pk for pk, _ in plans])
            .exclude(status=StopStatus.DROPPED)
            .order_by("route_id", "sequence")
            .values_list("route__vehicle_id", "order_id")
        )
        sequences: dict[int, list[int]] = {}
        for vehicle_id, order_id in planned:
            sequences.setdefault(vehicle_id, []).append(order_id)
        return stops, sequences

    @functools.cache
    def routes() -> DayRoutes:
        return day_routes(hub=hub, day=day, crews=crews, load=load, fingerprint=fingerprint)

    holds_in = Counter(template_id for _, template_id, _ in holds)
    return DayState({pk: totals[f"slot_{pk}"] for pk in windows}, dict(holds_in), routes)


def slot_offers(
    *,
    hub: Hub,
    day: dt.date,
    lat: float,
    lng: float,
    load: dict,
    now: dt.datetime,
    profile: HubProfile,
    templates: list[SlotTemplate],
    exclude_order_id: int | None = None,
    fleet: HubFleet | None = None,
) -> list[SlotOffer]:
    """Every slot of `hub` on `day` with its remaining places and why it cannot be booked."""
    templates = [t for t in templates if t.runs_on(day)]
    if not templates:
        return []
    crews = crews_on(hub=hub, day=day, fleet=fleet)
    state = slot_day_state(hub=hub, day=day, now=now, crews=crews, templates=templates)
    excluded = None
    if exclude_order_id:
        own = committed_orders(hub=hub, day=day).filter(pk=exclude_order_id)
        excluded = next(iter(own.values_list("window_start", flat=True)), None)
    today = now.astimezone(hub.tz).date()
    offers = []
    for template in templates:
        start, end = template.window(day)
        capacity = slot_capacity(template=template, day=day, profile=profile, crews=crews)
        taken = state.orders_in[template.pk] + state.holds_in.get(template.pk, 0)
        taken -= 1 if excluded is not None and start <= excluded < end else 0
        offer = SlotOffer(template, day, start, end, capacity.value, max(0, capacity.value - taken))
        if now >= template.cutoff(day) or now >= start:
            offer.reason = "cutoff_passed"
        elif day == today and not template.same_day_allowed:
            offer.reason = "same_day_not_offered"
        elif capacity.value == 0:
            offer.reason = "no_capacity"
        elif offer.remaining == 0:
            offer.reason = "slot_full"
        else:
            offer.insertion = insertion_for(
                state.routes(),
                lat=lat,
                lng=lng,
                start=start,
                end=end,
                load=load,
                service_minutes=profile.service_s / 60,
            )
            offer.reason = None if offer.insertion else "no_route_fits"
        offers.append(offer)
    return offers


def slot_availability(
    *,
    organization,
    lat: float,
    lng: float,
    date_from: dt.date,
    date_to: dt.date,
    load: dict,
    hub: Hub | None = None,
    exclude_order_id: int | None = None,
) -> Availability:
    """The slots a checkout at (lat, lng) may book between two dates (hub chosen by area)."""
    hub = hub_for_point(organization=organization, lat=lat, lng=lng, hub=hub)
    now = clock.now()
    profile = hub_profile(hub=hub)
    templates = list(slot_template_list(organization=organization, hub=hub).filter(active=True))
    fleet = hub_fleet(hub=hub)
    slots = []
    day = date_from
    while day <= date_to:
        slots += slot_offers(
            hub=hub,
            day=day,
            lat=lat,
            lng=lng,
            load=load,
            now=now,
            profile=profile,
            templates=templates,
            exclude_order_id=exclude_order_id,
            fleet=fleet,
        )
        day += dt.timedelta(days=1)
    return Availability(hub, slots)


def order_next_slots(*, organization, order: Order, days: int = 7, limit: int = 5) -> Availability:
    """The next bookable slots for an order's address and load, from today (e.g. after a failure)."""
    today = clock.now().astimezone(order.hub.tz if order.hub else dt.UTC).date()
    load = {"kg": order.load_kg, "m3": order.load_m3, "parcels": order.load_parcels}
    availability = slot_availability(
        organization=organization,
        lat=order.lat,
        lng=order.lng,
        date_from=today,
        date_to=today + dt.timedelta(days=days - 1),
        load=load,
        hub=order.hub,
        exclude_order_id=order.pk,
    )
    availability.slots = [s for s in availability.slots if s.available][:limit]
    return availability
