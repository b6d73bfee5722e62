import datetime as dt

import pytest

from common.idempotency import idempotency_purge
from common.models import IdempotencyRecord
from orders.models import Order
from tests.factories.orders import order_payload, order_rows

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_first_response_without_a_duplicate(merchant_client, hub):
    first = merchant_client.post("/api/orders", order_payload("SO-1"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    again = merchant_client.post("/api/orders", order_payload("SO-1"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_with_another_body_answers_422(merchant_client, hub):
    merchant_client.post("/api/orders", order_payload("SO-1"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = merchant_client.post("/api/orders", order_payload("SO-2"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Order.objects.values_list("merchant_reference", flat=True)) == ["SO-1"]


def test_key_order_in_json_does_not_change_the_fingerprint(merchant_client, hub):
    import json

    payload = order_payload("SO-1")
    reordered = json.dumps(dict(reversed(list(payload.items()))))
    merchant_client.post("/api/orders", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    again = merchant_client.post("/api/orders", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_validation_errors_are_replayed_too(merchant_client, hub):
    bad = order_payload("SO-1", hub="nowhere")
    first = merchant_client.post("/api/orders", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-bad")

    again = merchant_client.post("/api/orders", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-bad")

    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_bulk_replay_creates_nothing_new(merchant_client, hub):
    body = {"orders": order_rows(50)}
    first = merchant_client.post("/api/orders/bulk", body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    again = merchant_client.post("/api/orders/bulk", body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["summary"] == {"total": 50, "created": 50, "failed": 0}
    assert Order.objects.count() == 50


def test_keys_are_per_organization(merchant_client, hub, other_organization):
    from rest_framework.test import APIClient

    from accounts.services import api_key_create

    _, raw = api_key_create(organization=other_organization, created_by=None, name="Other")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    merchant_client.post("/api/orders", order_payload("SO-1"), format="json", HTTP_IDEMPOTENCY_KEY="shared")

    response = other.post("/api/orders", order_payload("SO-1", hub=None), format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_expired_keys_are_forgotten_after_24_hours(merchant_client, hub):
    merchant_client.post("/api/orders", order_payload("SO-1"), format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25))

    response = merchant_client.post("/api/orders", order_payload("SO-2"), format="json", HTTP_IDEMPOTENCY_KEY="old")

    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_purge_removes_only_expired_records(merchant_client, hub):
    merchant_client.post("/api/orders", order_payload("SO-1"), format="json", HTTP_IDEMPOTENCY_KEY="old")
    merchant_client.post("/api/orders", order_payload("SO-2"), format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25))

    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_overlong_key_is_refused(merchant_client, hub):
    response = merchant_client.post("/api/orders", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 300)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert Order.objects.count() == 0
