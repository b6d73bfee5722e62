import datetime as dt
import math
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.bulk import insert_new
from orders.models import Order, OrderEvent

pytestmark = pytest.mark.django_db

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
IGNORED = {"id", "merchant_reference", "tracking_token", "created_at", "updated_at"}


def _orders(organization, prefix: str, count: int = 3) -> list[Order]:
    start = dt.datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=HELSINKI)
    varied = [
        {},
        {
            "cash_on_delivery": Decimal("12.50"),
            "required_skills": ["refrigerated"],
            "instructions": "Soita kahdesti — ovikello ei toimi ✓",
            "time_windows": [{"start": start.isoformat(), "end": (start + dt.timedelta(hours=2)).isoformat()}],
            "window_start": start,
            "window_end": start + dt.timedelta(hours=2),
            "delivery_date": dt.date(2026, 12, 1),
            "lat": 60.1688,
            "lng": 24.944,
            "geocode_confidence": 1.0,
            "priority": 7,
        },
        {"address_issue": "address_not_found", "lat": None, "customer_email": "aino@example.fi"},
    ]
    return [
        Order(
            organization=organization,
            merchant_reference=f"{prefix}-{index}",
            customer_name="Aino",
            address_text="Aleksanterinkatu 52",
            **varied[index % len(varied)],
        )
        for index in range(count)
    ]


def _stored(order: Order) -> dict:
    return {key: value for key, value in Order.objects.filter(pk=order.pk).values().get().items() if key not in IGNORED}


def test_rows_are_stored_as_bulk_create_stores_them(organization):
    through_orm, through_json = _orders(organization, "ORM"), _orders(organization, "JSON")
    Order.objects.bulk_create(through_orm)

    insert_new(through_json)

    assert [_stored(order) for order in through_json] == [_stored(order) for order in through_orm]
    assert _stored(through_json[1])["cash_on_delivery"] == Decimal("12.50")
    assert _stored(through_json[1])["window_start"] == dt.datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=dt.UTC)


def test_each_object_gets_the_key_of_its_own_row(organization):
    orders = _orders(organization, "KEY", count=50)

    insert_new(orders)

    stored = dict(Order.objects.values_list("pk", "merchant_reference"))
    assert {order.pk: order.merchant_reference for order in orders} == stored
    assert [order._state.adding for order in orders] == [False] * 50


def test_timestamps_are_stamped_as_on_save(organization):
    [order] = _orders(organization, "STAMP", count=1)

    insert_new([order])

    stored = Order.objects.get(pk=order.pk)
    assert (stored.created_at, stored.updated_at) == (order.created_at, order.updated_at)
    assert order.updated_at is not None


def test_a_batch_is_one_statement(organization):
    [order] = _orders(organization, "ONE", count=1)
    insert_new([order])
    history = [OrderEvent(order=order, kind="order_created", actor="system", details={"n": n}) for n in range(100)]

    with CaptureQueriesContext(connection) as queries:
        insert_new(history)

    assert len(queries) == 1
    assert queries[0]["sql"].startswith('INSERT INTO "orders_orderevent"')
    assert list(order.events.order_by("pk").values_list("details", flat=True)) == [{"n": n} for n in range(100)]


def test_a_value_json_cannot_carry_goes_through_bulk_create(organization):
    [order] = _orders(organization, "INF", count=1)
    order.geocode_confidence = math.inf

    insert_new([order])

    assert Order.objects.get(pk=order.pk).geocode_confidence == math.inf


def test_nothing_to_insert_runs_no_query():
    with CaptureQueriesContext(connection) as queries:
        insert_new([])

    assert len(queries) == 0
