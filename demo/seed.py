"""The demo organisation: a real city (Helsinki), its fleet and a day of orders.

Safe to run again: the organisation, users, fleet and API key are created once; each run adds the
day's orders only if that day has none yet.
"""

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.models import ApiKey, Organization, Role, User
from accounts.services import api_key_create, user_create
from accounts.tenancy import Actor
from demo.history import demo_history_seed
from demo.today import TodayRoute, demo_today_seed
from dispatch.models import WEEKDAYS, Driver, Hub, SlotTemplate, Vehicle
from dispatch.slots.services import slot_template_save
from orders.models import AddressPoint, Order
from orders.services import order_create_many

ORG_SLUG = "demo"
TZ = "Europe/Helsinki"
PASSWORDS = {
    "admin": "waypoint-admin",
    "dispatcher": "waypoint-dispatch",
    "viewer": "waypoint-viewer",
}
CREDENTIALS_FILE = "demo-credentials.json"
DEMO_KEY_NAME = "Demo web shop"
HUBS = [
    # Two real depots: central Helsinki (Kamppi) and Kalasatama in the east.
    {
        "code": "hel-central",
        "name": "Helsinki Central",
        "address": "Salomonkatu 17, 00100 Helsinki",
        "lat": 60.1697,
        "lng": 24.9327,
        "service_radius_km": 8,
    },
    {
        "code": "hel-east",
        "name": "Kalasatama",
        "address": "Työpajankatu 2, 00580 Helsinki",
        "lat": 60.1871,
        "lng": 24.9770,
        "service_radius_km": 8,
    },
]
VEHICLES = [
    ("Cargo bike 1", "bike", True, 120, 0.6, 25, "15.00", "0.02", "22.00", 0, 40, []),
    ("Cargo bike 2", "bike", True, 120, 0.6, 25, "15.00", "0.02", "22.00", 0, 40, []),
    ("E-van 1", "van", True, 700, 5.5, 110, "45.00", "0.12", "28.00", 0, 200, []),
    ("Van 2", "van", False, 900, 7.0, 140, "40.00", "0.30", "28.00", 190, None, []),
    ("Cold van", "van", False, 800, 6.0, 100, "55.00", "0.32", "30.00", 210, None, ["refrigerated"]),
    ("Box truck", "truck", False, 3000, 18.0, 300, "90.00", "0.55", "34.00", 420, None, ["heavy"]),
]
DRIVERS = [
    "Aino Korhonen",
    "Mikko Virtanen",
    "Laura Mäkinen",
    "Jussi Nieminen",
    "Sanna Heikkinen",
    "Teemu Koskinen",
]
# Two shifts cover the day's windows (08:00-20:00): early and late crews at each hub.
EARLY_SHIFT = {"start": "07:30", "end": "16:00", "breaks": [{"start": "11:30", "end": "12:00"}]}
LATE_SHIFT = {"start": "11:30", "end": "20:30", "breaks": [{"start": "16:00", "end": "16:30"}]}
FIRST_NAMES = [
    "Aino",
    "Eero",
    "Liisa",
    "Ville",
    "Helmi",
    "Oskari",
    "Emma",
    "Leevi",
    "Sofia",
    "Onni",
]
LAST_NAMES = [
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Hämäläinen",
    "Laine",
    "Koskinen",
    "Järvinen",
]


@dataclass
class DemoSummary:
    organization: Organization
    orders_created: int
    order_date: dt.date
    api_key: str | None  # the secret, when this run created the key or var/ still holds it
    gazetteer_points: int
    api_key_prefix: str = ""
    today_routes: list[TodayRoute] = field(default_factory=list)


def _organization() -> Organization:
    organization, _ = Organization.objects.get_or_create(
        slug=ORG_SLUG, defaults={"name": "Waypoint Demo Deliveries", "timezone": TZ}
    )
    return organization


def _users(organization: Organization) -> None:
    for role in ("admin", "dispatcher", "viewer"):
        if not User.objects.filter(username=role).exists():
            user_create(
                organization=organization,
                username=role,
                password=PASSWORDS[role],
                role=role,
            )


def _fleet(organization: Organization) -> list[Hub]:
    hubs = []
    for spec in HUBS:
        hub, _ = Hub.objects.get_or_create(
            organization=organization,
            code=spec["code"],
            defaults={
                **spec,
                "timezone": TZ,
                "opening_hours": {d: [["07:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
            },
        )
        hubs.append(hub)
    if not Vehicle.objects.filter(organization=organization).exists():
        for index, (
            name,
            kind,
            electric,
            kg,
            m3,
            parcels,
            fixed,
            per_km,
            per_hour,
            co2,
            range_km,
            skills,
        ) in enumerate(VEHICLES):
            Vehicle.objects.create(
                organization=organization,
                name=name,
                type=kind,
                electric=electric,
                capacity_kg=kg,
                capacity_m3=m3,
                capacity_parcels=parcels,
                cost_fixed_per_day=fixed,
                cost_per_km=per_km,
                cost_per_hour=per_hour,
                emissions_g_co2_per_km=co2,
                range_km=range_km,
                skills=skills,
                home_hub=hubs[index % 2],
            )
    if not Driver.objects.filter(organization=organization).exists():
        for index, name in enumerate(DRIVERS):
            username = f"driver{index + 1}"
            user = User.objects.filter(username=username).first() or user_create(
                organization=organization,
                username=username,
                password=f"waypoint-{username}",
                role=Role.DRIVER,
            )
            Driver.objects.create(
                organization=organization,
                user=user,
                name=name,
                phone=f"+35840{5550100 + index}",
                home_hub=hubs[index % 2],
                skills=["refrigerated"] if index == 4 else [],
                weekly_shifts={
                    day: LATE_SHIFT if (index // 2) % 2 else EARLY_SHIFT
                    for day in ("mon", "tue", "wed", "thu", "fri", "sat")
                },
            )
    return hubs


def _api_key(organization: Organization, credentials_dir: Path) -> tuple[ApiKey, str | None]:
    """The one "Demo web shop" key, and its secret when var/ still holds it (demo only).

    A re-run never mints a second key: when the secret is no longer known (var/ was wiped) the
    existing key is reported without it; revoking it lets the next run create a fresh one.
    """
    path = credentials_dir / CREDENTIALS_FILE
    key = ApiKey.objects.filter(organization=organization, name=DEMO_KEY_NAME, revoked_at=None).first()
    if key is not None:
        raw = json.loads(path.read_text()).get("api_key", "") if path.exists() else ""
        return key, raw if key.matches(raw) else None
    key, raw = api_key_create(organization=organization, created_by=None, name=DEMO_KEY_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"api_key": raw}))
    return key, raw


def address_row(rng: random.Random, points: list[AddressPoint], hub: Hub) -> dict:
    """A real address from the gazetteer (merchant coordinates included), or a point near the hub."""
    if points:
        point = rng.choice(points)
        return {
            "text": f"{point.street} {point.housenumber}",
            "postcode": point.postcode,
            "city": point.city or "Helsinki",
            "country": "FI",
            "lat": point.lat,
            "lng": point.lng,
        }
    # No gazetteer loaded (offline first run): spread around the hub with merchant coordinates.
    lat, lng = hub.lat + rng.uniform(-0.02, 0.02), hub.lng + rng.uniform(-0.04, 0.04)
    return {
        "text": f"Helsinki {lat:.4f}, {lng:.4f}",
        "city": "Helsinki",
        "country": "FI",
        "lat": lat,
        "lng": lng,
    }


def _order_rows(day: dt.date, count: int, hubs: list[Hub], rng: random.Random) -> list[dict]:
    points = list(AddressPoint.objects.all()[:5000])
    tz = hubs[0].tz
    rows = []
    for index in range(count):
        hub = hubs[index % len(hubs)]
        start_hour = rng.choice([8, 10, 12, 14, 16, 18])
        start = dt.datetime.combine(day, dt.time(start_hour), tzinfo=tz)
        rows.append(
            {
                "merchant_reference": f"DEMO-{day:%Y%m%d}-{index + 1:04d}",
                "type": "delivery",
                "hub": hub,
                "customer": {
                    "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "phone": f"+35850{rng.randint(1000000, 9999999)}",
                    "email": "",
                },
                "address": address_row(rng, points, hub),
                "time_windows": [{"start": start, "end": start + dt.timedelta(hours=2)}],
                "service_minutes": rng.choice([2, 3, 4, 5]),
                "load": {
                    "kg": round(rng.uniform(0.5, 12), 1),
                    "m3": round(rng.uniform(0.005, 0.08), 3),
                    "parcels": rng.choice([1, 1, 1, 2, 3]),
                },
                "priority": 80 if index % 25 == 0 else 0,
                "required_skills": ["refrigerated"] if index % 17 == 0 else [],
                "proof_of_delivery": ["signature"] if index % 5 == 0 else [],
                "cash_on_delivery": None,
                "instructions": "",
            }
        )
    # A few addresses nobody can find: they are kept and flagged, never dropped.
    for row in rows[-3:]:
        row["address"] = {
            "text": "Tuntematon katu 999",
            "postcode": "",
            "city": "",
            "country": "FI",
            "lat": None,
            "lng": None,
        }
    return rows


DEMO_SLOTS = ((8, "3.90"), (10, "4.90"), (12, "4.90"), (14, "4.90"), (16, "5.90"))


def slot_templates_demo_seed(*, organization) -> int:
    """Two-hour slots Monday to Saturday at every hub that has none yet (demo data)."""
    created = 0
    for hub in Hub.objects.filter(organization=organization).order_by("pk"):
        if SlotTemplate.objects.filter(hub=hub).exists():
            continue
        for hour, price in DEMO_SLOTS:
            slot_template_save(
                organization=organization,
                instance=SlotTemplate(),
                data={
                    "hub": hub,
                    "name": f"{hour:02d}–{hour + 2:02d}",
                    "weekdays": list(WEEKDAYS[:6]),
                    "start_time": dt.time(hour),
                    "end_time": dt.time(hour + 2),
                    "cutoff_minutes": 120,
                    "price": Decimal(price),
                },
            )
            created += 1
    return created


def seed_demo(
    *, order_date: dt.date, order_count: int = 120, history_days: int = 56, credentials_dir: Path | None = None
) -> DemoSummary:
    credentials_dir = credentials_dir or Path(settings.BASE_DIR) / "var"
    with transaction.atomic():
        organization = _organization()
        _users(organization)
        hubs = _fleet(organization)
        slot_templates_demo_seed(organization=organization)
        api_key, raw_key = _api_key(organization, credentials_dir)
    # Eight weeks of past deliveries, so the forecast page has history to learn from.
    demo_history_seed(organization=organization, days=history_days)
    created = 0
    prefix = f"DEMO-{order_date:%Y%m%d}-"
    if not Order.objects.filter(organization=organization, merchant_reference__startswith=prefix).exists():
        rows = _order_rows(order_date, order_count, hubs, random.Random(order_date.toordinal()))
        results = order_create_many(actor=Actor(organization=organization), rows=rows)
        created = sum(1 for result in results if isinstance(result, Order))
    # Today's routes, dispatched: a demo driver who signs in has a day to drive.
    today_routes = demo_today_seed(organization=organization)
    return DemoSummary(
        organization, created, order_date, raw_key, AddressPoint.objects.count(), api_key.prefix, today_routes
    )
