"""The simulated day's world: a fresh organisation with hubs, a mixed fleet, drivers on shifts and
orders on real addresses, planned, optimised and dispatched through the real services.

Reuses the demo's city (its hubs, gazetteer addresses, shifts and slot templates), so a simulated
day looks like the demo's and the living demo can later run the same engine on its organisation.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.models import Organization, Role
from accounts.services import user_create
from accounts.tenancy import Actor
from demo.seed import EARLY_SHIFT, FIRST_NAMES, HUBS, LAST_NAMES, LATE_SHIFT, TZ, address_row, slot_templates_demo_seed
from dispatch.models import Driver, Hub, Plan, PlanStatus, Vehicle
from dispatch.planning.services.plans import plan_create, plan_dispatch, plan_optimize, plan_optimize_run
from orders.models import AddressPoint
from orders.services import order_create_many

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The fleet mix, cycled per hub: (name, type, electric, kg, m3, parcels, per km, per hour, g CO2/km).
FLEET = (
    ("E-van", "van", True, 700, 5.5, 110, "0.12", "28.00", 0),
    ("Van", "van", False, 900, 7.0, 140, "0.30", "28.00", 190),
    ("Cargo bike", "bike", True, 120, 0.6, 25, "0.02", "22.00", 0),
    ("E-van", "van", True, 700, 5.5, 110, "0.12", "28.00", 0),
    ("Cargo bike", "bike", True, 120, 0.6, 25, "0.02", "22.00", 0),
)
WINDOW_STARTS = (8, 10, 12, 14, 16, 18)
# The planner's search is capped by iterations, not seconds: the same seed plans the same routes
# on a busy machine and an idle one.
PLAN_ITERATIONS = 100


@dataclass(frozen=True)
class Scenario:
    seed: int
    date: dt.date
    orders: int = 1000
    hubs: int = 2
    vehicles: int = 30
    failure_rate: float = 0.05
    traffic_noise: float = 0.15
    strategy: str = "static"
    position_interval_s: int = 60
    check_interval_s: int = 300
    plan_iterations: int = PLAN_ITERATIONS


@dataclass
class World:
    organization: Organization
    hubs: list[Hub]
    plans: list[Plan]
    optimisation_seconds: float  # wall clock: reported apart from the deterministic figures


def _organization(scenario: Scenario) -> Organization:
    """A fresh organisation each run: nothing of an earlier run (or the demo) mixes in."""
    taken = Organization.objects.filter(slug__startswith=f"sim-{scenario.seed}-").count()
    return Organization.objects.create(
        slug=f"sim-{scenario.seed}-{taken + 1}",
        name=f"Simulated day (seed {scenario.seed})",
        timezone=TZ,
        # Static: a failed delivery waits for the next slot; dynamic: the live route takes it back later today.
        reattempt_same_day=scenario.strategy == "dynamic",
    )


def _hubs(organization: Organization, count: int) -> list[Hub]:
    hubs = []
    for index in range(count):
        spec = HUBS[index % len(HUBS)]
        hubs.append(
            Hub.objects.create(
                organization=organization,
                **{**spec, "code": f"{spec['code']}-{index + 1}" if index >= len(HUBS) else spec["code"]},
                timezone=TZ,
                opening_hours={day: [["06:00", "22:00"]] for day in WEEKDAYS},
            )
        )
    return hubs


def _fleet(organization: Organization, hubs: list[Hub], count: int) -> None:
    vehicles, drivers = [], []
    for index in range(count):
        hub = hubs[index % len(hubs)]
        name, kind, electric, kg, m3, parcels, per_km, per_hour, co2 = FLEET[(index // len(hubs)) % len(FLEET)]
        vehicles.append(
            Vehicle(
                organization=organization,
                name=f"{name} {index + 1}",
                type=kind,
                electric=electric,
                capacity_kg=kg,
                capacity_m3=m3,
                capacity_parcels=parcels,
                cost_fixed_per_day=Decimal("30.00"),
                cost_per_km=Decimal(per_km),
                cost_per_hour=Decimal(per_hour),
                emissions_g_co2_per_km=co2,
                home_hub=hub,
            )
        )
        # Early and late crews alternate, so the day's windows (08:00-20:00) are all covered.
        shift = LATE_SHIFT if (index // len(hubs)) % 2 else EARLY_SHIFT
        # A driver account without a password (nobody signs in): the actions are the driver's own.
        user = user_create(
            organization=organization,
            username=f"sim{organization.pk}-driver{index + 1}",
            password=None,
            role=Role.DRIVER,
        )
        drivers.append(
            Driver(
                organization=organization,
                user=user,
                name=f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]} {index + 1}",
                phone=f"+35840{7000000 + index}",
                home_hub=hub,
                weekly_shifts={day: shift for day in WEEKDAYS},
            )
        )
    Vehicle.objects.bulk_create(vehicles)
    Driver.objects.bulk_create(drivers)


def _extras(index: int) -> dict:
    """What some orders ask of the driver, as in real traffic: proofs, cash on delivery."""
    if index % 5 == 0:
        return {"proof_of_delivery": ["signature"]}
    if index % 7 == 0:
        return {"proof_of_delivery": ["photo"]}
    if index % 11 == 0:
        return {"proof_of_delivery": ["one_time_code"]}
    if index % 13 == 0:
        return {"cash_on_delivery": Decimal("19.90")}
    return {}


def order_rows(scenario: Scenario, hubs: list[Hub], rng: random.Random) -> list[dict]:
    # Ordered by key, so the same seed draws the same addresses whatever order the database keeps.
    points = list(AddressPoint.objects.order_by("pk")[:5000])
    rows = []
    for index in range(scenario.orders):
        hub = hubs[index % len(hubs)]
        start = dt.datetime.combine(scenario.date, dt.time(rng.choice(WINDOW_STARTS)), tzinfo=hub.tz)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        row = {
            "merchant_reference": f"SIM-{index + 1:05d}",
            "type": "delivery",
            "hub": hub,
            # example.com never delivers: the messages are logged and counted, nobody is bothered.
            "customer": {
                "name": name,
                "phone": f"+35850{rng.randint(1000000, 9999999)}",
                "email": f"c{index}@example.com",
            },
            "address": address_row(rng, points, hub),
            "time_windows": [{"start": start, "end": start + dt.timedelta(hours=2)}],
            "service_minutes": rng.choice([2, 3, 3, 4, 5]),
            "load": {"kg": round(rng.uniform(0.5, 8), 1), "m3": 0.01, "parcels": rng.choice([1, 1, 1, 2])},
            "priority": 0,
            "required_skills": [],
            "proof_of_delivery": [],
            "cash_on_delivery": None,
            "instructions": "",
        }
        row.update(_extras(index))
        rows.append(row)
    return rows


def _plan(actor: Actor, hub: Hub, scenario: Scenario) -> Plan:
    plan = plan_create(actor=actor, hub=hub, date=scenario.date, objective="cost")
    # Optimised here, inside one transaction: the worker's task, enqueued for after the commit,
    # then finds the attempt done and does nothing (as demo.today does), and the search runs with
    # the scenario's iteration cap and seed instead of a wall-clock budget.
    with transaction.atomic():
        plan = plan_optimize(actor=actor, plan=plan)
        plan_optimize_run(
            plan_id=plan.pk, attempt=plan.attempt, max_iterations=scenario.plan_iterations, seed=scenario.seed
        )
    plan = Plan.objects.get(pk=plan.pk)
    if plan.status != PlanStatus.OPTIMIZED:
        return plan
    return plan_dispatch(actor=actor, plan=plan, expected_version=plan.version)


def world_build(scenario: Scenario) -> World:
    """Seed, plan, optimise and dispatch the day; the clock must already stand before the first shift."""
    with transaction.atomic():
        organization = _organization(scenario)
        hubs = _hubs(organization, scenario.hubs)
        _fleet(organization, hubs, scenario.vehicles)
        slot_templates_demo_seed(organization=organization)
    actor = Actor(organization=organization, name="simulator")
    order_create_many(actor=actor, rows=order_rows(scenario, hubs, random.Random(scenario.seed)))
    started = time.perf_counter()
    plans = [_plan(actor, hub, scenario) for hub in hubs]
    return World(organization, hubs, plans, time.perf_counter() - started)
