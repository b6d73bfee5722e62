import json

import pytest
from rest_framework.test import APIClient

from accounts.services import api_key_create
from dispatch.models import Hub
from orders.models import Order, OrderEvent
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


def test_merchant_creates_an_order_that_is_validated_with_history(merchant_client, hub):
    response = merchant_client.post("/api/orders", order_payload("SO-1"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["merchant_reference"] == "SO-1"
    assert body["status"] == "validated"
    assert body["hub"] == "hel-1"
    assert body["address"]["geocode_source"] == "merchant"
    assert body["address"]["address_issue"] is None
    assert body["load"] == {"kg": 2.5, "m3": 0.01, "parcels": 1}
    assert body["time_windows"][0]["start"].endswith("+00:00")
    assert len(body["tracking_token"]) >= 24
    assert body["tracking_url"].endswith(f"/t/{body['tracking_token']}")
    history = list(OrderEvent.objects.filter(order_id=body["id"]).values_list("kind", "from_status", "to_status"))
    assert history == [
        ("order_created", "", "created"),
        ("order_validated", "created", "validated"),
    ]


def test_order_without_hub_is_assigned_to_the_hub_covering_it(merchant_client, hub):
    response = merchant_client.post("/api/orders", order_payload("SO-2", hub=None), format="json")

    assert response.status_code == 201
    assert response.json()["hub"] == "hel-1"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param(
            {"address": {"text": "x", "lat": 95, "lng": 24}},
            "address.lat",
            "Ensure this value is less than or equal to 90.",
            id="latitude-out-of-range",
        ),
        pytest.param(
            {"address": {"text": "x", "lat": 60.1}},
            "address.lat",
            "Send both lat and lng, or neither.",
            id="lat-without-lng",
        ),
        pytest.param(
            {"time_windows": [{"start": "2026-12-01T12:00:00+02:00", "end": "2026-12-01T10:00:00+02:00"}]},
            "time_windows[0].end",
            "The window must end after it starts.",
            id="window-ends-before-start",
        ),
        pytest.param(
            {"time_windows": [{"start": "2026-12-01T10:00:00", "end": "2026-12-01T12:00:00"}]},
            "time_windows[0].start",
            "Give the time with a UTC offset, e.g. 2026-11-25T09:00:00+02:00.",
            id="window-without-offset",
        ),
        pytest.param(
            {"time_windows": []}, "time_windows", "Ensure this field has at least 1 elements.", id="no-window"
        ),
        pytest.param(
            {"load": {"kg": -1}}, "load.kg", "Ensure this value is greater than or equal to 0.", id="negative-load"
        ),
        pytest.param({"hub": "nowhere"}, "hub", "Unknown hub 'nowhere'.", id="unknown-hub"),
        pytest.param({"priority": "high"}, "priority", "A valid integer is required.", id="wrong-type"),
        pytest.param(
            {"proof_of_delivery": ["fingerprint"]},
            "proof_of_delivery[0]",
            '"fingerprint" is not a valid choice.',
            id="unknown-proof",
        ),
        pytest.param({"customer": {}}, "customer.name", "This field is required.", id="missing-customer-name"),
        pytest.param(
            {"language": "sv"},
            "language",
            "Unknown language 'sv': use one of en, fi, or leave it blank for the organisation's language.",
            id="language-without-templates",
        ),
        pytest.param(
            {"merchant_reference": ""}, "merchant_reference", "This field may not be blank.", id="blank-reference"
        ),
    ],
)
def test_bad_input_answers_400_with_field_messages_and_writes_nothing(merchant_client, hub, change, field, message):
    response = merchant_client.post("/api/orders", order_payload("SO-BAD", **change), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][field] == [message]
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def test_malformed_json_answers_400(merchant_client, hub):
    response = merchant_client.post("/api/orders", data='{"merchant_reference": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_json_array_body_is_a_clear_error(merchant_client, hub):
    response = merchant_client.post("/api/orders", data="[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_oversized_body_answers_413(merchant_client, hub, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(order_payload("SO-BIG", instructions="x" * 2000))

    response = merchant_client.post("/api/orders", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert Order.objects.count() == 0


def test_duplicate_merchant_reference_is_refused(merchant_client, hub):
    merchant_client.post("/api/orders", order_payload("SO-1"), format="json")

    response = merchant_client.post("/api/orders", order_payload("SO-1"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "merchant_reference": ["An order with this merchant_reference already exists."]
    }
    assert Order.objects.count() == 1


def test_same_reference_in_two_organizations_is_allowed(merchant_client, hub, other_organization):
    Hub.objects.create(
        organization=other_organization,
        code="hel-1",
        name="Other hub",
        address="x",
        lat=60.17,
        lng=24.94,
        service_radius_km=10,
    )
    _, raw = api_key_create(organization=other_organization, created_by=None, name="Other shop")
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    first = merchant_client.post("/api/orders", order_payload("SO-1"), format="json")
    second = other_client.post("/api/orders", order_payload("SO-1"), format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert Order.objects.filter(merchant_reference="SO-1").count() == 2


def test_an_order_carries_the_customers_language_and_blank_means_the_organisations(merchant_client, hub):
    finnish = merchant_client.post("/api/orders", order_payload("SO-FI", language="fi"), format="json")
    unset = merchant_client.post("/api/orders", order_payload("SO-ORG"), format="json")

    assert (finnish.status_code, unset.status_code) == (201, 201)
    assert (finnish.json()["language"], unset.json()["language"]) == ("fi", "")
    assert dict(Order.objects.values_list("merchant_reference", "language")) == {"SO-FI": "fi", "SO-ORG": ""}


def test_the_language_can_be_changed_and_an_unknown_one_is_refused(merchant_client, hub):
    order = merchant_client.post("/api/orders", order_payload("SO-1"), format="json").json()

    changed = merchant_client.patch(f"/api/orders/{order['id']}", {"language": "fi"}, format="json")
    refused = merchant_client.patch(f"/api/orders/{order['id']}", {"language": "xx"}, format="json")

    assert (changed.status_code, changed.json()["language"]) == (200, "fi")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["language"]
    assert Order.objects.get().language == "fi"
