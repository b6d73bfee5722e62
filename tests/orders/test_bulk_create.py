import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderEvent
from tests.factories.orders import order_payload, order_rows

pytestmark = pytest.mark.django_db


def test_a_thousand_orders_in_one_request(merchant_client, hub):
    response = merchant_client.post("/api/orders/bulk", {"orders": order_rows(1000)}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["summary"] == {"total": 1000, "created": 1000, "failed": 0}
    assert [r["index"] for r in body["results"]] == list(range(1000))
    assert Order.objects.filter(status="validated").count() == 1000
    assert OrderEvent.objects.count() == 2000


@pytest.mark.parametrize("size", [1, 1000])
def test_a_batch_costs_the_same_queries_whatever_its_size(merchant_client, hub, size):
    """The key's lookup and stamp, the hubs, the existing references, one INSERT for the orders
    and one for their history, one look for a webhook endpoint that wants `order.created`, and one
    INSERT for the batch's `order_batch_created` event, which customer confirmations read as a whole
    (between the test transaction's savepoint and its release)."""
    with CaptureQueriesContext(connection) as queries:
        response = merchant_client.post("/api/orders/bulk", {"orders": order_rows(size)}, format="json")

    assert response.status_code == 201
    assert len(queries) == 10
    statements = [query["sql"].split(" ")[0] for query in queries]
    assert statements[-6:] == ["SAVEPOINT", "INSERT", "INSERT", "SELECT", "INSERT", "RELEASE"]
    assert '"notifications_webhookendpoint"' in queries[-3]["sql"]
    assert '"common_outboxevent"' in queries[-2]["sql"]


def test_each_order_gets_its_own_history(merchant_client, hub):
    rows = order_rows(3)
    rows[1]["address"] = {"text": "Nowhere 1", "postcode": "00000"}

    response = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json")

    assert response.status_code == 201
    history = {
        order.merchant_reference: list(order.events.order_by("pk").values_list("kind", "from_status", "to_status"))
        for order in Order.objects.all()
    }
    assert history == {
        "BULK-00000": [("order_created", "", "created"), ("order_validated", "created", "validated")],
        "BULK-00001": [("order_created", "", "created"), ("address_flagged", "", "")],
        "BULK-00002": [("order_created", "", "created"), ("order_validated", "created", "validated")],
    }


def test_one_bad_row_fails_alone(merchant_client, hub):
    rows = order_rows(5)
    rows[2]["address"] = {"text": "x", "lat": 123, "lng": 24}

    response = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json")

    assert response.status_code == 207
    body = response.json()
    assert body["summary"] == {"total": 5, "created": 4, "failed": 1}
    assert body["results"][2] == {
        "index": 2,
        "status": "error",
        "merchant_reference": "BULK-00002",
        "errors": {"address.lat": ["Ensure this value is less than or equal to 90."]},
    }
    assert sorted(Order.objects.values_list("merchant_reference", flat=True)) == [
        "BULK-00000",
        "BULK-00001",
        "BULK-00003",
        "BULK-00004",
    ]


def test_duplicate_references_inside_a_batch_and_against_existing_orders(merchant_client, hub):
    merchant_client.post("/api/orders", order_payload("SO-OLD"), format="json")
    rows = [order_payload("SO-NEW"), order_payload("SO-NEW"), order_payload("SO-OLD")]

    response = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json")

    results = response.json()["results"]
    assert response.status_code == 207
    assert [r["status"] for r in results] == ["created", "error", "error"]
    assert results[1]["errors"] == {"merchant_reference": ["An order with this merchant_reference already exists."]}
    assert Order.objects.count() == 2


def test_every_row_bad_answers_400_and_writes_nothing(merchant_client, hub):
    rows = [order_payload("A", hub="nope"), "not an object"]

    response = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"orders[1]": ['Expected a dictionary of items but got type "str".']}
    assert Order.objects.count() == 0


def test_row_level_non_object_is_reported_per_row(merchant_client, hub):
    response = merchant_client.post(
        "/api/orders/bulk",
        {"orders": [order_payload("A"), {"merchant_reference": 5}]},
        format="json",
    )

    assert response.status_code == 207
    errors = response.json()["results"][1]["errors"]
    assert errors["customer"] == ["This field is required."]
    assert errors["address"] == ["This field is required."]


def test_batch_over_the_limit_is_refused(merchant_client, hub, settings):
    settings.WAYPOINT_BULK_MAX_ORDERS = 3

    response = merchant_client.post("/api/orders/bulk", {"orders": order_rows(4)}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"orders": ["At most 3 orders per request; split the batch."]}
    assert Order.objects.count() == 0


def test_empty_batch_is_refused(merchant_client, hub):
    response = merchant_client.post("/api/orders/bulk", {"orders": []}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"orders": ["This list may not be empty."]}
