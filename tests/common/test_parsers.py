"""Hostile JSON bodies are refused with a 400 before any view runs: too deep, or carrying NUL."""

import json

import pytest

from dispatch.models.jobs import OptimizationJob
from orders.models import Order

pytestmark = pytest.mark.django_db
HUB = [24.9384, 60.1699]


def vroom(description="Door code 1234"):
    return {
        "vehicles": [{"id": 1, "start": HUB, "end": HUB, "capacity": [10]}],
        "jobs": [{"id": 1, "location": [24.95, 60.168], "delivery": [1], "description": description}],
    }


def test_json_nested_100000_deep_is_a_400_not_a_recursion_error(merchant_client):
    body = "[" * 100_000 + "]" * 100_000

    response = merchant_client.post("/api/orders", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"code": "json_too_deep", "message": "JSON nested deeper than 64 levels."}
    assert Order.objects.count() == 0


def test_json_deeper_than_64_levels_names_the_field(merchant_client):
    nested = {"a": 1}
    for _ in range(64):
        nested = {"a": nested}

    response = merchant_client.post("/api/orders", {"notes": nested}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == {"notes" + ".a" * 63: ["Nested deeper than 64 levels."]}


def test_json_64_levels_deep_is_parsed(merchant_client):
    nested = []
    for _ in range(63):
        nested = [nested]

    response = merchant_client.post("/api/optimize", nested, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Send a VROOM problem document (a JSON object)."]}


def test_nul_in_an_async_optimize_document_is_a_field_error(postgres, merchant_client):
    """PostgreSQL's jsonb cannot store \\u0000: refused at the field, no job row, no DataError."""
    body = json.dumps(vroom(description="gate\u0000code"))

    response = merchant_client.post("/api/optimize?mode=async", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": "Invalid input.",
        "errors": {"jobs[0].description": ["NUL characters (\\u0000) are not allowed."]},
    }
    assert OptimizationJob.objects.count() == 0


def test_nul_in_a_key_is_a_field_error(merchant_client):
    response = merchant_client.post("/api/optimize?mode=async", '{"jobs\\u0000": []}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"jobs\\u0000": ["NUL characters (\\u0000) are not allowed."]}


def test_a_clean_async_document_still_makes_a_job(postgres, merchant_client):
    response = merchant_client.post("/api/optimize?mode=async", vroom(), format="json")

    assert response.status_code == 202
    assert OptimizationJob.objects.get().document["jobs"][0]["description"] == "Door code 1234"
