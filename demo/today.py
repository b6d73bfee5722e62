"""Today's dispatched routes for the demo drivers, so a driver who signs in has a route to drive.

Through the real services: orders are created, each hub's plan is created, optimized (here, in this
process, before any worker runs) and dispatched, so the orders become `dispatched` (and the ones
asking for a one-time code get theirs) exactly as when a dispatcher presses the buttons. A few of
the day's orders show what the driver app handles: proofs (signature, photo, one-time code), cash
on delivery, a pickup, instructions and a door code.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.utils.text import slugify

from accounts.tenancy import Actor
from common import clock
from dispatch.models import Driver, Hub, Plan, PlanStatus, Route, StopStatus
from dispatch.network.services import driver_shift_override_set
from dispatch.planning.services.plans import plan_create, plan_dispatch, plan_optimize, plan_optimize_run
from orders.models import Order
from orders.services import order_create_many

TODAY_PREFIX = "TODAY"
ORDERS_PER_HUB = 12
# The optimizer's budget per hub: a dozen stops need far less; the seed stays quick.
PLAN_BUDGET_S = 1
SLOT_STARTS = (8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
# A demo day on Sunday (no one works in the weekly pattern): the drivers get a one-day shift.
SUNDAY_SHIFT = {"start": dt.time(8, 0), "end": dt.time(20, 0), "breaks": [{"start": "12:00", "end": "12:30"}]}
# What the first orders of each hub ask of the driver: the rest are plain deliveries.
SPECIALS = (
    {"proof_of_delivery": ["signature"], "instructions": "Ring twice; second floor."},
    {"proof_of_delivery": ["photo"], "instructions": "Leave by the back door if nobody answers."},
    {"proof_of_delivery": ["one_time_code"], "instructions": ""},
    {"cash_on_delivery": Decimal("24.90"), "proof_of_delivery": ["signature"], "instructions": "Cash only."},
    {"type": "pickup", "instructions": "Return: one parcel, label printed by the customer."},
)
NAMES = ("Aino Laine", "Eero Järvinen", "Liisa Koskinen", "Ville Nieminen", "Helmi Mäkinen", "Oskari Virtanen")


@dataclass
class TodayRoute:
    driver_username: str
    driver_name: str
    hub_name: str
    stops: int


def hub_today(hub: Hub) -> dt.date:
    return clock.now().astimezone(hub.tz).date()


def _rows(hub: Hub, day: dt.date, rng: random.Random) -> list[dict]:
    radius_deg = (hub.service_radius_km or 5) * 0.4 / 111.0
    rows = []
    for index in range(ORDERS_PER_HUB):
        start = dt.datetime.combine(day, dt.time(rng.choice(SLOT_STARTS)), tzinfo=hub.tz)
        lat = hub.lat + rng.uniform(-radius_deg, radius_deg)
        lng = hub.lng + rng.uniform(-radius_deg, radius_deg) * 2
        row = {
            "merchant_reference": f"{TODAY_PREFIX}-{hub.code}-{day:%Y%m%d}-{index + 1:03d}",
            "type": "delivery",
            "hub": hub,
            "customer": {
                "name": NAMES[index % len(NAMES)],
                "phone": f"+35850{5550200 + index}",
                # example.com never delivers: the demo's emails land in var/mail/ and the message log.
                "email": f"{slugify(NAMES[index % len(NAMES)]).replace('-', '.')}@example.com",
            },
            "address": {
                "text": f"Helsinki {lat:.4f}, {lng:.4f}",
                "postcode": "",
                "city": "Helsinki",
                "country": "FI",
                "lat": lat,
                "lng": lng,
            },
            # Two-hour windows, wide enough that early and late crews can each take some.
            "time_windows": [{"start": start, "end": start + dt.timedelta(hours=2)}],
            "service_minutes": 3,
            "load": {"kg": round(rng.uniform(0.5, 8), 1), "m3": 0.02, "parcels": rng.choice([1, 1, 2])},
            "priority": 0,
            "required_skills": [],
            "proof_of_delivery": [],
            "cash_on_delivery": None,
            "instructions": "",
        }
        # Every sixth order is plain; the others cycle through the specials, so each route has some.
        if index % (len(SPECIALS) + 1) < len(SPECIALS):
            row.update(SPECIALS[index % (len(SPECIALS) + 1)])
        rows.append(row)
    return rows


def _drivers_work(hub: Hub, day: dt.date) -> None:
    """On a day nobody works (Sunday), the hub's demo drivers get a one-day shift."""
    for driver in Driver.objects.filter(home_hub=hub, active=True).prefetch_related("shift_overrides"):
        if driver.shift_on(day) is None:
            driver_shift_override_set(driver=driver, data={"date": day, **SUNDAY_SHIFT})


def _plan_hub(actor: Actor, hub: Hub, day: dt.date) -> Plan | None:
    """Create, optimize (synchronously) and dispatch the hub's plan for `day`, once."""
    if Plan.objects.filter(hub=hub, date=day).exists():
        return None
    prefix = f"{TODAY_PREFIX}-{hub.code}-{day:%Y%m%d}-"
    if not Order.objects.filter(organization=actor.organization, merchant_reference__startswith=prefix).exists():
        order_create_many(actor=actor, rows=_rows(hub, day, random.Random(f"{hub.code}-{day}")))
    _drivers_work(hub, day)
    # "balance" spreads the stops over every crew, so each demo driver has a route to open.
    plan = plan_create(actor=actor, hub=hub, date=day, objective="balance", time_budget_s=PLAN_BUDGET_S)
    _optimize_now(actor, plan)
    plan = Plan.objects.get(pk=plan.pk)
    if plan.status != PlanStatus.OPTIMIZED:
        return plan  # nothing plannable (or the search failed): the plan page says why
    return plan_dispatch(actor=actor, plan=plan, expected_version=plan.version)


def _optimize_now(actor: Actor, plan: Plan) -> None:
    """plan_optimize, with its task run here: no worker is running while the demo is seeded.

    The task is enqueued after commit, eagerly (no broker needed); inside an outer transaction (the
    tests') that never happens, so the worker side runs directly. Either way it runs once: the run
    claims the attempt, and a second delivery finds the plan no longer optimizing.
    """
    from config.celery import app

    eager, propagates = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        plan = plan_optimize(actor=actor, plan=plan)
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = eager, propagates
    plan_optimize_run(plan_id=plan.pk, attempt=plan.attempt)


def demo_today_seed(*, organization) -> list[TodayRoute]:
    """Each hub's dispatched plan for today (in the hub's zone); the demo drivers' routes on it."""
    actor = Actor(organization=organization)
    for hub in Hub.objects.filter(organization=organization).order_by("pk"):
        _plan_hub(actor, hub, hub_today(hub))
    routes = []
    for hub in Hub.objects.filter(organization=organization).order_by("pk"):
        dispatched = (
            Route.objects.filter(plan__hub=hub, plan__date=hub_today(hub), plan__status=PlanStatus.DISPATCHED)
            .exclude(driver=None)
            .select_related("driver__user")
            .order_by("driver__user__username")
        )
        for route in dispatched.annotate(stop_count=Count("stops", filter=~Q(stops__status=StopStatus.DROPPED))):
            username = route.driver.user.username if route.driver.user else ""
            routes.append(TodayRoute(username, route.driver.name, hub.name, route.stop_count))
    return routes
