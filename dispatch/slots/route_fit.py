"""Committed stops of one hub and day as routes, ready for the engine's fast insertion check.

Availability asks "could one more stop in this window still be served?" without a search:
`routing.dynamic.best_insertion` against routes built from what is committed (orders and active
holds). The routes come from the day's active plans when there are some (their stop order is
kept), otherwise from a cheap greedy construction; stops not yet on a route are inserted
greedily. The result is cached per process by hub and day and rebuilt when its fingerprint
(committed orders, active holds, crews, plans) changes; a rebuild reuses the previous stop order,
so only the new stops are inserted.

No queries here: the selectors hand in plain rows.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dispatch.network.travel import travel_provider
from routing import GreatCircleProvider, InsertionPlan, ReusingProvider, TravelProvider, committed_routes
from routing.adapter import Built, Crew, Insertion, build_problem, cheapest_insertion

# A 500-stop day keeps its ~550 × 550 travel matrices twice (the model's int64 and the provider's
# int32 copy): ≈ 7 MB per vehicle profile, so 16 days stay near 100–200 MB at worst.
CACHE_SIZE = 16


@dataclass
class StopRow:
    """A committed stop as the adapter reads an order: an order row, or an active hold (negative id)."""

    ORDER_FIELDS: ClassVar[tuple[str, ...]] = (
        "pk",
        "lat",
        "lng",
        "time_windows",
        "service_minutes",
        "load_kg",
        "load_m3",
        "load_parcels",
        "required_skills",
        "priority",
        "merchant_reference",
    )

    pk: int
    lat: float
    lng: float
    time_windows: list[dict]
    service_minutes: float
    load_kg: float
    load_m3: float
    load_parcels: int
    required_skills: list = field(default_factory=list)
    priority: int = 0
    merchant_reference: str = ""


@dataclass
class DayRoutes:
    """The committed routes of one hub and day, and the stop order they were built with."""

    fingerprint: tuple
    built: Built
    plan: InsertionPlan | None
    sequences: dict[int, list[int]]  # vehicle id -> job ids in order
    unrouted: list[int]  # committed job ids no route could take
    crews_key: tuple = ()
    timed: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # with ("break", k) items
    provider: TravelProvider = field(default_factory=GreatCircleProvider)


_cache: OrderedDict[tuple[int, dt.date], DayRoutes] = OrderedDict()
_lock = threading.Lock()


def day_routes(
    *,
    hub,
    day: dt.date,
    crews: list[Crew],
    load: Callable[[], tuple[list[Any], dict[int, list[int]]]],
    fingerprint: tuple,
) -> DayRoutes:
    """Cached routes of `hub` on `day`; rebuilt only when `fingerprint` changed.

    `load()` returns the committed stops (orders and `StopRow`s) and the active plans' stop
    order by vehicle id; it runs only on a rebuild.
    """
    key = (hub.pk, day)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            _cache.move_to_end(key)
            return cached
    stops, plan_sequences = load()
    routes = _build(hub, day, crews, stops, plan_sequences, fingerprint, cached)
    with _lock:
        _cache[key] = routes
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return routes


def cache_clear() -> None:
    with _lock:
        _cache.clear()


def _build(hub, day, crews, stops, plan_sequences, fingerprint, previous: DayRoutes | None) -> DayRoutes:
    # Time objective: every vehicle costs one unit per second, so an insertion's added cost
    # reads directly as added driving seconds.
    provider = previous.provider if previous is not None else _day_provider()
    built = build_problem(hub=hub, day=day, crews=crews, orders=stops, objective="time", provider=provider)
    crews_key = tuple((c.vehicle.pk, str(c.shift)) for c in crews)
    reuse = previous is not None and previous.crews_key == crews_key
    # A plan's routes are kept as they are; a previous stop order is checked again, since a stop
    # whose window or load changed may no longer fit where it was.
    routes = committed_routes(
        built.problem,
        provider=provider,
        start=plan_sequences or (previous.sequences if reuse else {}),
        keep_start=bool(plan_sequences),
        breaks_at=previous.timed if reuse else None,
    )
    return DayRoutes(
        fingerprint, built, routes.plan, routes.sequences, routes.unrouted, crews_key, routes.timed, provider
    )


def _day_provider() -> TravelProvider:
    provider = travel_provider()
    # Great circles are cheap to extend by the new points only; road tables come from OSRM whole
    # (and its provider caches them).
    return ReusingProvider() if type(provider) is GreatCircleProvider else provider


def insertion_for(
    routes: DayRoutes,
    *,
    lat: float,
    lng: float,
    start: dt.datetime,
    end: dt.datetime,
    load: dict,
    service_minutes: float,
) -> Insertion | None:
    """The cheapest way to add a stop at (lat, lng) served inside [start, end], or None."""
    if routes.plan is None:
        return None
    return cheapest_insertion(
        routes.built,
        routes.plan,
        lat=lat,
        lng=lng,
        start=start,
        end=end,
        load=load,
        service_minutes=service_minutes,
    )
