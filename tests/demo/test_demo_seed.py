import pytest
from django.core.management import call_command

from accounts.models import ApiKey, Organization, User
from dispatch.models import Driver, Hub, Vehicle
from orders.models import Order
from tests.clock import day as suite_day

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Organization, User, Hub, Vehicle, Driver, ApiKey, Order)]


def test_seeding_twice_duplicates_nothing_and_prints_the_same_key(tmp_path, settings, capsys):
    settings.BASE_DIR = tmp_path
    day = suite_day(2)

    call_command(
        "seed_demo",
        "--date",
        day.isoformat(),
        "--orders",
        "40",
        "--history-days",
        "7",
        "--base-url",
        "http://localhost:9000",
    )
    first_output, first = capsys.readouterr().out, counts()
    call_command("seed_demo", "--date", day.isoformat(), "--orders", "40", "--history-days", "7")
    second_output, second = capsys.readouterr().out, counts()

    assert first == second
    assert first[:6] == [1, 9, 2, 6, 6, 1]
    assert Order.objects.filter(delivery_date=day).count() == 40
    assert Order.objects.filter(delivery_date__lt=day, status__in=["delivered", "failed"]).count() > 100
    key_line = next(line for line in first_output.splitlines() if "merchant API key" in line)
    assert key_line in second_output
    assert "http://localhost:9000/api/docs" in first_output
    flagged = Order.objects.filter(delivery_date=day).exclude(address_issue="")
    assert flagged.count() == 3
    assert set(flagged.values_list("address_issue", flat=True)) == {"address_not_found"}
    assert Order.objects.filter(delivery_date=day, status="validated").count() == 37


def test_a_new_day_adds_that_days_orders(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo", "--date", suite_day(2).isoformat(), "--orders", "10", "--history-days", "7")

    call_command("seed_demo", "--date", suite_day(3).isoformat(), "--orders", "10", "--history-days", "7")

    upcoming = Order.objects.filter(merchant_reference__startswith="DEMO-").values_list("delivery_date", flat=True)
    assert sorted(set(upcoming)) == [suite_day(2), suite_day(3)]
