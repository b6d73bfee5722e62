"""Races against real Postgres: concurrent requests never duplicate orders."""

import pytest
from rest_framework.test import APIClient

from orders.models import Order, OrderEvent
from tests.concurrency import run_together
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db(transaction=True)


def merchant(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw}")
    return client


def test_overlapping_bulk_requests_create_each_reference_once(postgres, api_key, hub):
    first = {"orders": [order_payload(f"R-{i:03d}") for i in range(0, 60)]}
    second = {"orders": [order_payload(f"R-{i:03d}") for i in range(30, 90)]}

    responses = run_together(
        [
            lambda: merchant(api_key).post("/api/orders/bulk", first, format="json"),
            lambda: merchant(api_key).post("/api/orders/bulk", second, format="json"),
        ]
    )

    created = [
        r["merchant_reference"] for resp in responses for r in resp.json()["results"] if r["status"] == "created"
    ]
    assert sorted(created) == [f"R-{i:03d}" for i in range(90)]
    assert Order.objects.count() == 90
    assert OrderEvent.objects.count() == 180


def test_same_idempotency_key_at_the_same_time_creates_one_order(postgres, api_key, hub):
    body = order_payload("SO-RACE")

    responses = run_together(
        [
            lambda: merchant(api_key).post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="race"),
            lambda: merchant(api_key).post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="race"),
        ]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([201, 201], [201, 409])
    assert Order.objects.filter(merchant_reference="SO-RACE").count() == 1
