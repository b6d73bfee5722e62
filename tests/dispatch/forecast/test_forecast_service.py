"""Volume forecast: weekly seasonality reproduced, the fallback named, capacity and staffing."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

import datetime as dt

import pytest

from demo.history import demo_history_seed
from dispatch.forecast.selectors import hub_forecast, volume_forecast
from orders.models import Order, OrderEvent
from tests.dispatch.slots.test_slot_fixtures import NOW, crew, frozen, make_crew, make_template  # noqa: F401

pytestmark = pytest.mark.django_db

# Monday … Sunday
PATTERN = (10, 8, 8, 9, 40, 5, 0)


def history(hub, *, days: int, last: dt.date | None = None, pattern=PATTERN, status="delivered") -> None:
    """Orders of the `days` days up to `last` (default: the frozen today), every 4th one at 14:00."""
    last = last or NOW.date()
    orders = []
    for offset in range(days):
        day = last - dt.timedelta(days=offset)
        for k in range(pattern[day.weekday()]):
            start = dt.datetime.combine(day, dt.time(10 if k % 4 else 14), tzinfo=hub.tz)
            orders.append(
                Order(
                    organization=hub.organization,
                    hub=hub,
                    merchant_reference=f"H-{day}-{k}",
                    customer_name="x",
                    address_text="x",
                    delivery_date=day,
                    status=status,
                    window_start=start,
                )
            )
    Order.objects.bulk_create(orders)


def test_holt_winters_reproduces_a_weekly_pattern(hub, crew, frozen):
    history(hub, days=28)

    forecast = hub_forecast(hub=hub)

    assert forecast.method == "holt_winters"
    assert [d.date for d in forecast.days][:2] == [dt.date(2026, 12, 2), dt.date(2026, 12, 3)]
    assert len(forecast.days) == 14
    # Wednesday first: 8, 9, 40, 5, 0, 10, 8, then the same week again.
    assert [d.stops for d in forecast.days] == [8, 9, 40, 5, 0, 10, 8] * 2


def test_short_history_falls_back_to_the_weekday_mean(hub, crew, frozen):
    history(hub, days=7)
    history(hub, days=3, last=NOW.date() - dt.timedelta(days=7), pattern=(20, 20, 20, 20, 20, 20, 20))

    forecast = hub_forecast(hub=hub, horizon=7)

    assert forecast.method == "seasonal_naive"
    # Sunday 11-29 … Tuesday 12-01 were seen twice: (0 + 20) / 2, (10 + 20) / 2, (8 + 20) / 2.
    assert [d.forecast for d in forecast.days] == [8.0, 9.0, 40.0, 5.0, 10.0, 15.0, 14.0]


def test_no_history_forecasts_nothing(hub, crew, frozen):
    forecast = hub_forecast(hub=hub, horizon=3)

    assert (forecast.method, [d.forecast for d in forecast.days]) == ("no_history", [0.0, 0.0, 0.0])


def test_days_above_capacity_are_flagged_with_the_staffing_they_need(hub, crew, frozen):
    """One car of 30 parcels over 7.5 h worked serves 30 stops a day: Friday's 40 is a shortfall."""
    history(hub, days=28)

    forecast = hub_forecast(hub=hub, horizon=7)

    friday = forecast.days[2]
    assert (friday.date, friday.stops, friday.capacity, friday.shortfall) == (dt.date(2026, 12, 4), 40, 30, True)
    assert (friday.scheduled_drivers, friday.stops_per_driver) == (1, 30.0)
    assert (friday.recommended_drivers, friday.recommended_vehicles) == (2, 2)
    assert [d.date.isoformat() for d in forecast.shortfall_days] == ["2026-12-04"]
    assert forecast.days[0].recommended_drivers == 1


def test_the_day_forecast_is_split_over_slots_by_history(hub, crew, frozen):
    make_template(hub, "10:00", "12:00")
    make_template(hub, "14:00", "16:00")
    history(hub, days=28)

    friday = hub_forecast(hub=hub, horizon=3).days[2]

    # Every 4th order of a day starts at 14:00: 22 of a week's 80, so 40 × 22 / 80 = 11.
    assert friday.slots == {"10:00–12:00": 29.0, "14:00–16:00": 11.0}


def test_a_hub_without_drivers_is_staffed_on_a_standard_shift(hub, frozen):
    history(hub, days=28)

    monday = hub_forecast(hub=hub, horizon=6).days[5]

    # A van: 3.25 km at 27 km/h = 433.3 s + 180 s → 5.87 stops/h × 8 h = 47.0 stops per driver.
    assert (monday.capacity, monday.stops_per_driver) == (0, 47.0)
    assert (monday.recommended_drivers, monday.shortfall) == (1, True)


def test_volume_forecast_of_a_flat_series_is_flat():
    values, method = volume_forecast([5.0] * 21, first_day=dt.date(2026, 11, 2), horizon=3)

    assert (method, [round(v, 6) for v in values]) == ("holt_winters", [5.0, 5.0, 5.0])


def test_demo_history_has_a_weekly_pattern_and_is_idempotent(hub, frozen):
    created = demo_history_seed(organization=hub.organization, days=14)
    again = demo_history_seed(organization=hub.organization, days=14)

    assert again == 0
    assert created == Order.objects.count()
    by_day = {d: Order.objects.filter(delivery_date=d).count() for d in {o.delivery_date for o in Order.objects.all()}}
    fridays = [n for d, n in by_day.items() if d.weekday() == 4]
    saturdays = [n for d, n in by_day.items() if d.weekday() == 5]
    assert min(fridays) > max(saturdays)
    assert not any(d.weekday() == 6 for d in by_day)
    assert set(Order.objects.values_list("status", flat=True)) <= {"delivered", "failed"}
    assert max(by_day) == dt.date(2026, 11, 30)
    assert OrderEvent.objects.filter(kind="order_delivered").count() == Order.objects.filter(status="delivered").count()
    assert make_crew
