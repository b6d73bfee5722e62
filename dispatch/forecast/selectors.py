"""Volume forecast per hub and day, and the staffing it needs (demo order history: demo/history.py).

Method (docs/slots.md): the hub's daily order counts over the last `history_days` (days without
orders count 0) are fitted with Holt-Winters exponential smoothing (statsmodels
`ExponentialSmoothing`, additive weekly seasonality, `seasonal_periods=7`, no trend) when at
least two full weeks are known; with less, the forecast of a day is the mean of the same weekday
in the history (seasonal naive mean). Every day's forecast is split over the slots by their share
of the history's orders, compared with the day's derived capacity, and turned into staffing:
drivers = ⌈forecast stops ÷ stops one driver-shift serves⌉, one vehicle each.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from common import clock
from dispatch.models import Hub, SlotTemplate
from dispatch.slots.capacity import HubProfile, crews_on, hub_fleet, hub_profile, window_capacity
from orders.lifecycle import OrderStatus
from orders.models import Order

MIN_SEASONAL_DAYS = 14
STANDARD_SHIFT_H = 8.0  # staffing unit when no driver is scheduled yet
DAY_S = 24 * 3600


@dataclass
class DayForecast:
    date: dt.date
    forecast: float
    capacity: int
    scheduled_drivers: int
    stops_per_driver: float
    slots: dict[str, float] = field(default_factory=dict)

    @property
    def stops(self) -> int:
        return round(self.forecast)

    @property
    def recommended_drivers(self) -> int:
        return math.ceil(self.stops / self.stops_per_driver) if self.stops_per_driver else 0

    @property
    def recommended_vehicles(self) -> int:
        return self.recommended_drivers  # one vehicle per driver-shift

    @property
    def shortfall(self) -> bool:
        return self.stops > self.capacity


@dataclass
class HubForecast:
    hub: Hub
    method: str  # holt_winters | seasonal_naive | no_history
    history: list[tuple[dt.date, int]]
    days: list[DayForecast]

    @property
    def shortfall_days(self) -> list[DayForecast]:
        return [day for day in self.days if day.shortfall]


def order_daily_counts(*, hub: Hub, since: dt.date, until: dt.date) -> dict[dt.date, int]:
    """Orders per delivery date of a hub (cancelled ones excluded), dates in [since, until]."""
    dates = Order.objects.filter(hub=hub, delivery_date__gte=since, delivery_date__lte=until)
    return Counter(dates.exclude(status=OrderStatus.CANCELLED).values_list("delivery_date", flat=True))


def volume_forecast(series: list[float], *, first_day: dt.date, horizon: int) -> tuple[list[float], str]:
    """Forecast `horizon` days after a daily series starting on `first_day`; returns (values, method)."""
    if not series:
        return [0.0] * horizon, "no_history"
    if len(series) >= MIN_SEASONAL_DAYS:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        with warnings.catch_warnings():
            # A perfectly periodic series has zero error, which makes statsmodels' AIC warn.
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                np.asarray(series, dtype=float),
                trend=None,
                seasonal="add",
                seasonal_periods=7,
                initialization_method="estimated",
            )
            values = model.fit().forecast(horizon)
        if np.all(np.isfinite(values)):
            return [max(0.0, float(v)) for v in values], "holt_winters"
    by_weekday: dict[int, list[float]] = {}
    for offset, value in enumerate(series):
        by_weekday.setdefault((first_day + dt.timedelta(days=offset)).weekday(), []).append(value)
    end = first_day + dt.timedelta(days=len(series))
    out = []
    for offset in range(horizon):
        seen = by_weekday.get((end + dt.timedelta(days=offset)).weekday())
        out.append(sum(seen) / len(seen) if seen else 0.0)
    return out, "seasonal_naive"


def _slot_shares(hub: Hub, since: dt.date, until: dt.date) -> dict[str, float]:
    """Share of the history's orders starting in each active slot (by local start time)."""
    templates = list(SlotTemplate.objects.filter(hub=hub, active=True))
    starts = Order.objects.filter(hub=hub, delivery_date__gte=since, delivery_date__lte=until)
    starts = starts.exclude(status=OrderStatus.CANCELLED).exclude(window_start=None)
    counts: Counter[str] = Counter()
    total = 0
    for start in starts.values_list("window_start", flat=True):
        local = start.astimezone(hub.tz).time()
        total += 1
        for template in templates:
            if template.start_time <= local < template.end_time:
                counts[f"{template.start_time:%H:%M}–{template.end_time:%H:%M}"] += 1
                break
    return {label: count / total for label, count in counts.items()} if total else {}


def _staffing(profile: HubProfile, crews) -> tuple[int, float]:
    """Capacity of the day and stops one driver-shift serves (average of the crews)."""
    capacity = window_capacity(profile=profile, crews=crews, start_s=0, end_s=DAY_S)
    if crews:
        return capacity.value, sum(min(p["by_time"], p["by_load"]) for p in capacity.crews) / len(crews)
    return capacity.value, profile.stops_per_hour("van") * STANDARD_SHIFT_H


def hub_forecast(*, hub: Hub, start: dt.date | None = None, horizon: int = 14, history_days: int = 56) -> HubForecast:
    """Forecast of `hub` for `horizon` days from `start` (default tomorrow, hub time)."""
    start = start or clock.now().astimezone(hub.tz).date() + dt.timedelta(days=1)
    until = start - dt.timedelta(days=1)
    since = until - dt.timedelta(days=history_days - 1)
    counts = order_daily_counts(hub=hub, since=since, until=until)
    first = min(counts) if counts else until + dt.timedelta(days=1)
    history = [
        (first + dt.timedelta(days=k), counts.get(first + dt.timedelta(days=k), 0))
        for k in range((until - first).days + 1)
    ]
    values, method = volume_forecast([float(c) for _, c in history], first_day=first, horizon=horizon)
    profile = hub_profile(hub=hub)
    shares = _slot_shares(hub, since, until)
    fleet = hub_fleet(hub=hub)
    days = []
    for offset, value in enumerate(values):
        day = start + dt.timedelta(days=offset)
        crews = crews_on(hub=hub, day=day, fleet=fleet)
        capacity, per_driver = _staffing(profile, crews)
        slots = {label: round(value * share, 1) for label, share in shares.items()}
        days.append(DayForecast(day, round(value, 1), capacity, len(crews), round(per_driver, 1), slots))
    return HubForecast(hub, method, history, days)
