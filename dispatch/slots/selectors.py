"""Reads for delivery slots: templates, holds, and what a checkout may book (capacity: `capacity.py`)."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet, Sum

from common import clock
from common.errors import UnprocessableError
from common.geo import haversine_m
from dispatch.models import (
    ACTIVE_STATUSES,
    HoldStatus,
    Hub,
    Plan,
    SlotHold,
    SlotTemplate,
    Stop,
    StopStatus,
)
from dispatch.network.selectors import hub_list
from dispatch.slots.capacity import HubFleet, HubProfile, crews_on, hub_fleet, hub_profile, slot_capacity
from dispatch.slots.route_fit import DayRoutes, StopRow, day_routes, insertion_for
from orders.lifecycle import OrderStatus
from orders.models import Order
from routing.adapter import Crew, Insertion

# Orders in these statuses occupy their slot (and a place on a route) for the day.
COMMITTED_STATUSES = (OrderStatus.VALIDATED, OrderStatus.PLANNED, OrderStatus.DISPATCHED, OrderStatus.RESCHEDULED)
MAX_RANGE_DAYS = 14


class OutsideServiceArea(UnprocessableError):
    code = "address_outside_service_area"


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
