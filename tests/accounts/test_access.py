import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, ApiKeyScope
from accounts.services import api_key_create
from dispatch.models import Hub
from orders.models import Order
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_order(other_organization):
    Hub.objects.create(
        organization=other_organization,
        code="hel-1",
        name="Other",
        address="x",
        lat=60.17,
        lng=24.94,
        service_radius_km=10,
    )
    _, raw = api_key_create(organization=other_organization, created_by=None, name="Other")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return Order.objects.get(pk=client.post("/api/orders", order_payload("THEIRS"), format="json").json()["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/orders/{pk}"),
        ("patch", "/api/orders/{pk}"),
        ("post", "/api/orders/{pk}/cancel"),
        ("get", "/api/orders/{pk}/events"),
        ("post", "/api/orders/{pk}/transition"),
    ],
)
def test_another_tenants_order_answers_404(merchant_client, hub, other_order, method, path):
    response = getattr(merchant_client, method)(path.format(pk=other_order.pk), {"status": "cancelled"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Order.objects.get(pk=other_order.pk).status == "validated"


def test_lists_show_only_the_callers_organization(merchant_client, hub, other_order):
    merchant_client.post("/api/orders", order_payload("MINE"), format="json")

    references = [o["merchant_reference"] for o in merchant_client.get("/api/orders").json()["results"]]

    assert references == ["MINE"]


def test_another_tenants_hub_code_is_unknown(merchant_client, other_order):
    response = merchant_client.post("/api/orders", order_payload("X"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"hub": ["Unknown hub 'hel-1'."]}


def test_no_credentials_answers_401(hub):
    response = APIClient().get("/api/orders")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_unknown_or_malformed_key_answers_401(hub):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer wp_deadbeef_nope")
    malformed = APIClient()
    malformed.credentials(HTTP_AUTHORIZATION="Token abc")

    assert client.get("/api/orders").status_code == 401
    assert malformed.get("/api/orders").json()["code"] == "authentication_failed"


def test_revoked_key_stops_working(merchant_client, api_key, admin_client):
    assert merchant_client.get("/api/orders").status_code == 200

    admin_client.post(f"/api/api-keys/{api_key.pk}/revoke")

    assert merchant_client.get("/api/orders").status_code == 401


def test_read_only_key_can_read_but_not_write(organization, hub):
    _, raw = api_key_create(organization=organization, created_by=None, name="BI", scope=ApiKeyScope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get("/api/orders").status_code == 200
    refused = client.post("/api/orders", order_payload(), format="json")
    assert refused.status_code == 403
    assert refused.json() == {"code": "permission_denied", "message": "This API key is read-only."}
    assert Order.objects.count() == 0


def test_viewer_reads_but_cannot_write(viewer_client, hub):
    assert viewer_client.get("/api/orders").status_code == 200
    refused = viewer_client.post("/api/orders", order_payload(), format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Your role can only read."


def test_driver_cannot_use_the_operations_api(driver_client, hub):
    response = driver_client.get("/api/orders")

    assert response.status_code == 403
    assert response.json()["message"] == "The driver role cannot use this endpoint."


def test_dispatcher_can_write_orders(dispatcher_client, hub):
    assert dispatcher_client.post("/api/orders", order_payload(), format="json").status_code == 201


def test_api_key_is_shown_once_and_stored_hashed(admin_client):
    created = admin_client.post("/api/api-keys", {"name": "Shop"}, format="json")

    assert created.status_code == 201
    raw = created.json()["key"]
    stored = ApiKey.objects.get(pk=created.json()["id"])
    assert raw.startswith(f"wp_{stored.prefix}_")
    assert raw not in stored.key_hash
    assert stored.key_hash == ApiKey.hash_secret(raw)
    listed = admin_client.get("/api/api-keys").json()["results"]
    assert "key" not in listed[0]


def test_only_admins_manage_keys(dispatcher_client, merchant_client):
    assert dispatcher_client.post("/api/api-keys", {"name": "X"}, format="json").status_code == 403
    refused = merchant_client.post("/api/api-keys", {"name": "X"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == "API keys are managed by signed-in admins only."


def test_rate_limit_answers_429_with_retry_after(organization, hub):
    key, raw = api_key_create(organization=organization, created_by=None, name="Tiny")
    ApiKey.objects.filter(pk=key.pk).update(rate_limit_per_minute=3)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    statuses = [client.get("/api/orders").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/orders")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "throttled"


def test_me_reports_the_principal(merchant_client, admin_client):
    assert merchant_client.get("/api/me").json() == {
        "organization": "acme",
        "role": "api_key",
        "principal": "api_key:Web shop",
    }
    assert admin_client.get("/api/me").json()["role"] == "admin"
