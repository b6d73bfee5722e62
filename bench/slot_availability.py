"""Slot availability latency for a hub with 500 committed orders (target: p95 ≤ 150 ms).

    createdb -h 127.0.0.1 -U postgres waypoint_bench_slots   # once; the benchmark migrates it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench_slots \
        .venv/bin/python -m bench.slot_availability [--orders 500] [--requests 200]

Goes through the whole API view in-process (API-key authentication, throttling, validation,
queries, capacity, the insertion test, serialization); no HTTP server. It creates its own
organisation (10 crews, six 2-hour slots from 08:00) and, for tomorrow, `--orders` committed
orders spread over the slots and the service area. Measured:

1. cold: the first request, which builds the day's routes (greedy construction);
2. warm: `--requests` checkouts at random addresses for tomorrow (p50/p95/max);
3. after a change: a hold is taken before each request, so each request rebuilds the routes
   incrementally (previous stop order kept, the new stop inserted);
4. week: warm requests for 7 days (tomorrow full, other days empty).

Never point it at a database you care about: it adds orders.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import time
import uuid

SLOTS = ("08:00", "10:00", "12:00", "14:00", "16:00", "18:00")


def setup(orders: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Organization
    from accounts.services import api_key_create
    from accounts.tenancy import Actor
    from dispatch.models import Driver, Hub, SlotTemplate, Vehicle
    from orders.services import order_create_many

    call_command("migrate", verbosity=0)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    hub = Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Bench hub",
        address="x",
        lat=60.1699,
        lng=24.9384,
        timezone="Europe/Helsinki",
        service_radius_km=8,
    )
    week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    shift = {"start": "08:00", "end": "20:00", "breaks": [{"start": "12:00", "end": "12:30"}]}
    for k in range(10):
        Vehicle.objects.create(
            organization=organization,
            name=f"Van {k}",
            type="van",
            capacity_kg=800,
            capacity_m3=6,
            capacity_parcels=110,
            home_hub=hub,
        )
        Driver.objects.create(
            organization=organization, name=f"Driver {k}", home_hub=hub, weekly_shifts={d: shift for d in week}
        )
    templates = [
        SlotTemplate.objects.create(
            organization=organization,
            hub=hub,
            weekdays=week,
            price=4,
            start_time=dt.time.fromisoformat(s),
            end_time=dt.time(int(s[:2]) + 2),
        )
        for s in SLOTS
    ]
    day = dt.datetime.now(hub.tz).date() + dt.timedelta(days=1)
    rng = random.Random(1)
    rows = []
    for k in range(orders):
        start = dt.datetime.combine(day, dt.time.fromisoformat(SLOTS[k % len(SLOTS)]), tzinfo=hub.tz)
        lat, lng = random_point(rng)
        rows.append(
            {
                "merchant_reference": f"B-{k:05d}",
                "type": "delivery",
                "hub": hub,
                "customer": {"name": "Bench", "phone": "", "email": ""},
                "address": {"text": "x", "postcode": "", "city": "Helsinki", "country": "FI", "lat": lat, "lng": lng},
                "time_windows": [{"start": start, "end": start + dt.timedelta(hours=2)}],
                "service_minutes": 3,
                "load": {"kg": 2, "m3": 0.01, "parcels": 1},
                "priority": 0,
                "required_skills": [],
                "proof_of_delivery": [],
                "cash_on_delivery": None,
                "instructions": "",
            }
        )
    order_create_many(actor=Actor(organization=organization), rows=rows)
    _, raw = api_key_create(organization=organization, created_by=None, name="bench")
    return organization, hub, templates, day, raw


def random_point(rng: random.Random) -> tuple[float, float]:
    return 60.1699 + rng.uniform(-0.04, 0.04), 24.9384 + rng.uniform(-0.08, 0.08)


def timed(client, key: str, params: dict) -> float:
    started = time.perf_counter()
    response = client.get("/api/slots/availability", params, HTTP_AUTHORIZATION=f"Bearer {key}")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{response.status_code}: {response.content[:300]!r}")
    return elapsed


def summary(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return f"{name},{len(ordered)},{statistics.median(ordered):.1f},{p95:.1f},{ordered[-1]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    organization, hub, templates, day, key = setup(args.orders)
    from django.test import Client

    from accounts.tenancy import Actor
    from dispatch.slots.services import slot_hold

    client, rng = Client(), random.Random(2)

    def params(days: int = 1) -> dict:
        lat, lng = random_point(rng)
        return {"lat": lat, "lng": lng, "date_from": str(day), "date_to": str(day + dt.timedelta(days=days - 1))}

    cold = timed(client, key, params())
    warm = [timed(client, key, params()) for _ in range(args.requests)]
    changed = []
    actor = Actor(organization=organization)
    for k in range(min(50, args.requests)):
        lat, lng = random_point(rng)
        slot_hold(actor=actor, template=templates[k % len(templates)], day=day, lat=lat, lng=lng, load={"parcels": 1})
        changed.append(timed(client, key, params()))
    week = [timed(client, key, params(7)) for _ in range(min(50, args.requests))]
    print(f"committed_orders={args.orders} crews=10 slots_per_day={len(SLOTS)} cold_ms={cold:.1f}")
    print("case,requests,p50_ms,p95_ms,max_ms")
    for name, timings in (("warm_1_day", warm), ("after_hold_1_day", changed), ("warm_7_days", week)):
        print(summary(name, timings))


if __name__ == "__main__":
    main()
