"""Past orders for the demo hubs, so the forecast page has history to learn from."""

from __future__ import annotations

import datetime as dt
import random

from accounts.tenancy import Actor
from common import clock
from dispatch.models import Hub
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.services import order_create_many, order_transition_backfill

# Orders per weekday relative to the base: busy Mondays and Fridays, quiet Saturdays, closed Sundays.
WEEKLY_PATTERN = (1.1, 0.95, 0.95, 1.0, 1.3, 0.6, 0.0)
DEMO_BASE = 100
HISTORY_PREFIX = "HIST"
SLOT_STARTS = (8, 10, 12, 14, 16, 18)


def _history_rows(hub: Hub, day: dt.date, count: int, rng: random.Random) -> list[dict]:
    radius_deg = (hub.service_radius_km or 5) * 0.6 / 111.0
    rows = []
    for index in range(count):
        start = dt.datetime.combine(day, dt.time(rng.choice(SLOT_STARTS)), tzinfo=hub.tz)
        lat = hub.lat + rng.uniform(-radius_deg, radius_deg)
        lng = hub.lng + rng.uniform(-radius_deg, radius_deg) * 2
        rows.append(
            {
                "merchant_reference": f"{HISTORY_PREFIX}-{hub.code}-{day:%Y%m%d}-{index + 1:04d}",
                "type": "delivery",
                "hub": hub,
                "customer": {"name": "Demo Customer", "phone": "", "email": ""},
                "address": {
                    "text": f"Helsinki {lat:.4f}, {lng:.4f}",
                    "postcode": "",
                    "city": "Helsinki",
                    "country": "FI",
                    "lat": lat,
                    "lng": lng,
                },
                "time_windows": [{"start": start, "end": start + dt.timedelta(hours=2)}],
                "service_minutes": rng.choice([2, 3, 4, 5]),
                "load": {
                    "kg": round(rng.uniform(0.5, 12), 1),
                    "m3": round(rng.uniform(0.005, 0.08), 3),
                    "parcels": rng.choice([1, 1, 1, 2, 3]),
                },
                "priority": 0,
                "required_skills": [],
                "proof_of_delivery": [],
                "cash_on_delivery": None,
                "instructions": "",
            }
        )
    return rows


def _close_history(orders: list[Order], rng: random.Random) -> None:
    """Demo data only: past orders go through the lifecycle to delivered (or failed), dated on their day.

    Through the lifecycle's bulk path: thousands of past orders one by one would take minutes.
    """
    failed = {o.pk for o in orders if rng.random() < 0.06}
    at = {o.pk: o.window_start for o in orders if o.window_start}
    delivered = [o for o in orders if o.pk not in failed]
    for status in (OrderStatus.PLANNED, OrderStatus.DISPATCHED, OrderStatus.OUT_FOR_DELIVERY):
        order_transition_backfill(actor=None, orders=orders, to_status=status, at=at)
    order_transition_backfill(
        actor=None, orders=[o for o in orders if o.pk in failed], to_status=OrderStatus.FAILED, at=at
    )
    for status in (OrderStatus.ARRIVED, OrderStatus.DELIVERED):
        order_transition_backfill(actor=None, orders=delivered, to_status=status, at=at)


def demo_history_seed(*, organization, days: int = 56, today: dt.date | None = None) -> int:
    """Past delivered/failed orders for every hub with a weekly pattern; idempotent per hub and day."""
    created = 0
    for hub in Hub.objects.filter(organization=organization).order_by("pk"):
        last = (today or clock.now().astimezone(hub.tz).date()) - dt.timedelta(days=1)
        for offset in range(days, 0, -1):
            day = last - dt.timedelta(days=offset - 1)
            prefix = f"{HISTORY_PREFIX}-{hub.code}-{day:%Y%m%d}-"
            if Order.objects.filter(organization=organization, merchant_reference__startswith=prefix).exists():
                continue
            rng = random.Random(f"{hub.code}-{day}")
            trend = 1 + 0.004 * (days - offset)
            count = round(DEMO_BASE * WEEKLY_PATTERN[day.weekday()] * trend * rng.uniform(0.9, 1.1))
            if not count:
                continue
            rows = _history_rows(hub, day, count, rng)
            results = order_create_many(actor=Actor(organization=organization), rows=rows)
            orders = [result for result in results if isinstance(result, Order)]
            _close_history(orders, rng)
            created += len(orders)
    return created
