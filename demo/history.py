"""Past orders for the demo hubs, so the forecast page has history to learn from."""

from __future__ import annotations

import datetime as dt
import random

from accounts.tenancy import Actor
from common import clock
from dispatch.models import Hub
from orders import events
from orders.lifecycle import OrderStatus
from orders.models import Order, OrderEvent
from orders.services import order_create_many

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
    """Demo data only: past orders go straight to delivered (or failed), with their history rows.

    Running `order_transition` five times for each of thousands of past orders would make the demo
    seed take minutes; the orders end in the same state and history the lifecycle would give.
    """
    final = {o.pk: OrderStatus.FAILED if rng.random() < 0.06 else OrderStatus.DELIVERED for o in orders}
    history = []
    for order in orders:
        previous = order.status
        for status in (OrderStatus.PLANNED, OrderStatus.DISPATCHED, OrderStatus.OUT_FOR_DELIVERY, final[order.pk]):
            order.status = status
            event = events.status_changed(order, "system", previous=previous)
            event.at = order.window_start or event.at
            history.append(event)
            previous = status
    for status in (OrderStatus.DELIVERED, OrderStatus.FAILED):
        Order.objects.filter(pk__in=[pk for pk, s in final.items() if s == status]).update(status=status)
    OrderEvent.objects.bulk_create(history)


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
