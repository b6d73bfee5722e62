"""Endpoints that act as a signed-in person refuse API keys with a 403, before the view runs."""

import pytest

from tracking.models import ExceptionStatus
from tracking.services.exceptions import exception_raise

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_risk(organization):
    return exception_raise(
        organization=organization, kind="late_risk", cause="late_risk:test", message="Order A runs late."
    )


def test_a_key_cannot_read_driver_routes(merchant_client):
    response = merchant_client.get("/api/driver/routes")

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "Routes are read by the driver's own sign-in, not API keys.",
    }


@pytest.mark.parametrize("action", ["acknowledge", "assign", "resolve"])
def test_a_key_cannot_act_on_delivery_exceptions(merchant_client, late_risk, action):
    """Assigning with no `user_id` means "to me": a key is nobody, and the history names a person."""
    response = merchant_client.post(f"/api/exceptions/{late_risk.pk}/{action}", {}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "API keys cannot use this endpoint; it is for signed-in people.",
    }
    late_risk.refresh_from_db()
    assert (late_risk.status, late_risk.assigned_to, late_risk.events.count()) == (ExceptionStatus.OPEN, None, 1)


def test_a_key_cannot_send_positions(merchant_client):
    response = merchant_client.post("/api/driver/positions", {"positions": []}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == "Positions come from drivers' own sign-in, not API keys."


def test_a_key_still_reads_the_merchant_api(merchant_client, hub):
    response = merchant_client.get("/api/hubs")

    assert response.status_code == 200
    assert [h["code"] for h in response.json()["results"]] == ["hel-1"]
