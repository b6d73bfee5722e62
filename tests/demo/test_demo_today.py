"""The demo's today: every demo driver has a dispatched route to drive, with the stops the driver
app is about (proofs, cash, a pickup), and the tower sees today's plan."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Organization, User
from dispatch.models import DriverShiftOverride, Plan, Route
from orders.models import Order
from tests.clock import HELSINKI, START, TODAY
from tests.clock import day as suite_day
from tracking.selectors.tower import tower_snapshot

pytestmark = pytest.mark.django_db

SEED = ["seed_demo", "--date", suite_day(1).isoformat(), "--orders", "5", "--history-days", "1"]


@pytest.fixture
def seeded(tmp_path, settings, capsys):
    settings.BASE_DIR = tmp_path
    call_command(*SEED)
    return capsys.readouterr().out


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_every_demo_driver_has_todays_dispatched_route_and_its_login_says_so(seeded):
    answer = signed_in("driver1").get("/api/driver/routes").json()

    assert answer["date"] == TODAY.isoformat()
    [route] = answer["routes"]
    assert route["hub"] == "Helsinki Central"
    assert len(route["stops"]) >= 1
    assert {stop["status"] for stop in route["stops"]} == {"planned"}
    orders = Order.objects.filter(pk__in=[stop["order_id"] for stop in route["stops"]])
    assert set(orders.values_list("status", flat=True)) == {"dispatched"}
    assert set(orders.values_list("delivery_date", flat=True)) == {TODAY}

    plans = Plan.objects.filter(date=TODAY)
    routes = Route.objects.filter(plan__date=TODAY).exclude(stops=None)

    assert sorted(plans.values_list("hub__code", "status")) == [
        ("hel-central", "dispatched"),
        ("hel-east", "dispatched"),
    ]
    assert sorted(routes.values_list("driver__user__username", flat=True).distinct()) == [
        f"driver{n}" for n in range(1, 7)
    ]
    today = Order.objects.filter(delivery_date=TODAY)
    assert today.count() == 24
    assert set(today.values_list("status", flat=True)) == {"dispatched"}

    route = Route.objects.get(plan__date=TODAY, driver__user__username="driver1")
    stops = route.stops.exclude(status="dropped").count()

    assert (
        f"  login driver1    password waypoint-driver1  (Aino Korhonen); today: {stops} stops from Helsinki Central"
        " at http://localhost:8000/driver/"
    ) in seeded.splitlines()


def test_todays_orders_show_what_the_driver_app_handles_and_the_tower_shows_the_day(seeded):
    today = Order.objects.filter(delivery_date=TODAY, hub__code="hel-central")

    assert sorted(map(tuple, today.exclude(proof_of_delivery=[]).values_list("proof_of_delivery", flat=True))) == [
        ("one_time_code",),
        ("one_time_code",),
        ("photo",),
        ("photo",),
        ("signature",),
        ("signature",),
        ("signature",),
        ("signature",),
    ]
    assert list(today.exclude(cash_on_delivery=None).values_list("cash_on_delivery", flat=True)) == [
        Decimal("24.90"),
        Decimal("24.90"),
    ]
    assert today.filter(type="pickup").count() == 2
    codes = [order.delivery_code for order in today if order.proof_of_delivery == ["one_time_code"]]
    assert [len(code) for code in codes] == [6, 6]
    assert all(code.isdigit() for code in codes)

    tower = tower_snapshot(organization=Organization.objects.get(slug="demo"))
    kpis = {key: tower.kpis["all"][key] for key in ("delivered", "failed", "pending")}
    route = Route.objects.get(plan__date=TODAY, driver__user__username="driver1")
    page = signed_in("dispatcher").get(f"/tower/routes/{route.pk}/")

    assert (tower.date, len(tower.routes), kpis) == (TODAY, 6, {"delivered": 0, "failed": 0, "pending": 24})
    assert page.status_code == 200


def test_seeding_again_plans_today_once(seeded, capsys):
    before = sorted(Plan.objects.filter(date=TODAY).values_list("pk", "status", "version"))

    call_command(*SEED)

    assert sorted(Plan.objects.filter(date=TODAY).values_list("pk", "status", "version")) == before
    assert Order.objects.filter(delivery_date=TODAY).count() == 24
    assert "today: " in capsys.readouterr().out


def test_on_a_sunday_the_demo_drivers_get_a_days_shift_and_a_route(tmp_path, settings, time_machine):
    settings.BASE_DIR = tmp_path
    sunday = TODAY + dt.timedelta(days=6 - TODAY.weekday())
    time_machine.move_to(dt.datetime.combine(sunday, START.timetz()).replace(tzinfo=HELSINKI), tick=True)

    call_command("seed_demo", "--orders", "5", "--history-days", "1")

    assert DriverShiftOverride.objects.filter(date=sunday, off=False).count() == 6
    assert sorted(Route.objects.filter(plan__date=sunday).values_list("driver__user__username", flat=True)) == [
        f"driver{n}" for n in range(1, 7)
    ]
    assert set(Order.objects.filter(delivery_date=sunday).values_list("status", flat=True)) == {"dispatched"}
