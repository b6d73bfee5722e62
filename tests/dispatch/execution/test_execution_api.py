"""The driver app's API: today's route, synced actions, single actions, contacting the customer."""

import datetime as dt
from decimal import Decimal

import pytest

from dispatch.execution.contact import ContactResult
from dispatch.models import DriverAction, Stop, StopEvent
from orders.models import Order, OrderEvent
from tests.clock import START, TODAY
from tests.factories.fleet import DriverFactory

pytestmark = pytest.mark.django_db
AT = (START + dt.timedelta(minutes=5)).isoformat()


def counts():
    return DriverAction.objects.count(), StopEvent.objects.count(), OrderEvent.objects.count()


def test_today_shows_the_drivers_route_with_everything_for_the_door(driver_client, driver, route, make_stop):
    stop = make_stop(
        customer_name="Aino Virtanen",
        proof_of_delivery=["signature", "one_time_code"],
        cash_on_delivery=Decimal("12.00"),
        access_code="B1234",
        instructions="Ring twice",
        delivery_alternative="neighbour",
        delivery_alternative_detail="Flat 3",
    )
    order = stop.order

    response = driver_client.get("/api/driver/today")

    assert response.status_code == 200
    body = response.json()
    assert (body["date"], body["driver"]) == (str(TODAY), {"id": driver.pk, "name": "Mikko Lahti"})
    hub, vehicle = route.plan.hub, route.vehicle
    assert body["route"] == {
        "id": route.pk,
        "plan_id": route.plan_id,
        "hub": {"id": hub.pk, "name": "Helsinki Central", "lat": 60.1699, "lng": 24.9384},
        "vehicle": {"id": vehicle.pk, "name": vehicle.name, "type": "van"},
        "shift_started_at": None,
        "shift_ended_at": None,
        "start_time": None,
        "end_time": None,
        "progress": {"done": 0, "failed": 0, "remaining": 1},
        "stops": [
            {
                "id": stop.pk,
                "sequence": 1,
                "status": "planned",
                "planned_arrival": "2026-11-30T08:00:00Z",
                "eta": "2026-11-30T08:00:00Z",
                "window_start": "2026-12-01T07:00:00Z",
                "window_end": "2026-12-01T13:00:00Z",
                "arrived_at": None,
                "completed_at": None,
                "failure_reason": "",
                "order": {
                    "id": order.pk,
                    "reference": order.merchant_reference,
                    "type": "delivery",
                    "status": "dispatched",
                    "customer_first_name": "Aino",
                    "address_text": order.address_text,
                    "lat": order.lat,
                    "lng": order.lng,
                    "instructions": "Ring twice",
                    "access_code": "B1234",
                    "delivery_alternative": "neighbour",
                    "delivery_alternative_detail": "Flat 3",
                    "load_kg": 2.5,
                    "load_parcels": 1,
                    "cash_on_delivery": "12.00",
                    "proofs_required": ["signature", "one_time_code", "cash_collected"],
                    "code_attempts_left": 5,
                },
            }
        ],
        # Straight from the hub to the stop and back: the default travel model knows no roads.
        "path": [[60.1699, 24.9384], [order.lat, order.lng], [60.1699, 24.9384]],
    }


def test_today_without_a_route_answers_null(driver_client, driver):
    response = driver_client.get("/api/driver/today")

    assert (response.status_code, response.json()["route"]) == (200, None)


def test_today_for_a_driver_account_without_a_profile_is_404(driver_client):
    response = driver_client.get("/api/driver/today")

    assert (response.status_code, response.json()["code"]) == (404, "no_driver_profile")


@pytest.mark.parametrize("caller", ["dispatcher_client", "merchant_client"])
def test_today_is_only_for_drivers(request, caller, driver, route):
    response = request.getfixturevalue(caller).get("/api/driver/today")

    assert response.status_code == 403


def test_actions_sync_answers_each_action_in_order(driver_client, driver, route, make_stop):
    first, second = make_stop(), make_stop()
    Order.objects.filter(pk=second.order_id).update(status="cancelled")
    actions = [
        {"client_id": "a-1", "kind": "start_shift", "device_at": AT},
        {"client_id": "a-2", "kind": "arrive", "stop_id": first.pk, "device_at": AT},
        {"client_id": "a-3", "kind": "complete", "stop_id": first.pk, "device_at": AT},
        {"client_id": "a-4", "kind": "complete", "stop_id": second.pk, "device_at": AT},
        "not an object",
    ]

    response = driver_client.post("/api/driver/actions", {"actions": actions}, format="json")
    replay = driver_client.post("/api/driver/actions", {"actions": actions[1:3]}, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["client_id"], r["outcome"], r.get("code")) for r in results] == [
        ("a-1", "applied", None),
        ("a-2", "applied", None),
        ("a-3", "applied", None),
        ("a-4", "rejected", "order_cancelled"),
        (None, "rejected", "invalid_action"),
    ]
    assert results[2]["stop"] == {"id": first.pk, "status": "done", "order_status": "delivered"}
    assert replay.json()["results"] == [{**r, "replayed": True} for r in results[1:3]]
    assert DriverAction.objects.count() == 4


def test_actions_sync_takes_at_most_500(driver_client, driver):
    actions = [{"client_id": f"a-{n}", "kind": "end_shift", "device_at": AT} for n in range(501)]

    response = driver_client.post("/api/driver/actions", {"actions": actions}, format="json")

    assert (response.status_code, list(response.json()["errors"])) == (400, ["actions"])
    assert DriverAction.objects.count() == 0


def test_completing_without_the_proofs_answers_422_naming_them(driver_client, driver, make_stop):
    stop = make_stop(proof_of_delivery=["signature", "photo"], cash_on_delivery=Decimal("9.90"))
    before = counts()

    response = driver_client.post(f"/api/stops/{stop.pk}/complete", {"payload": {}}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "code": "proof_required",
        "message": "This delivery cannot be completed without: signature; photo; cash_collected (9.90 to collect).",
        "details": {
            "missing": ["signature", "photo", "cash_collected"],
            "reasons": {"cash_collected": "9.90 to collect"},
        },
    }
    stop.refresh_from_db()
    assert (stop.status, stop.order.status, counts()) == ("planned", "dispatched", before)


def test_a_merchant_key_cannot_complete_a_stop(merchant_client, driver, make_stop):
    stop = make_stop()
    before = counts()

    response = merchant_client.post(f"/api/stops/{stop.pk}/complete", {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "transition_not_permitted"
    stop.refresh_from_db()
    assert (stop.status, stop.order.status, counts()) == ("planned", "dispatched", before)


def test_a_viewer_cannot_execute(viewer_client, driver, make_stop):
    stop = make_stop()

    response = viewer_client.post(f"/api/stops/{stop.pk}/arrive", {}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Stop.objects.get(pk=stop.pk).status == "planned"


def test_a_dispatcher_records_the_outcome_for_the_driver(dispatcher_client, driver, make_stop):
    stop = make_stop()

    arrived = dispatcher_client.post(f"/api/stops/{stop.pk}/arrive", {"device_at": AT}, format="json")
    failed = dispatcher_client.post(
        f"/api/stops/{stop.pk}/fail", {"payload": {"reason": "customer_absent"}}, format="json"
    )

    assert (arrived.status_code, arrived.json()["status"]) == (200, "arrived")
    assert (failed.status_code, failed.json()["status"], failed.json()["order"]["status"]) == (200, "failed", "failed")
    stop.refresh_from_db()
    assert (stop.arrival_source, stop.failure_reason, stop.order.delivery_attempts) == (
        "dispatcher",
        "customer_absent",
        1,
    )
    actors = set(OrderEvent.objects.filter(order=stop.order).values_list("actor", flat=True))
    assert actors == {"user:acme-dispatcher"}
    assert StopEvent.objects.filter(stop=stop).last().details["source"] == "dispatcher"


def test_a_driver_acts_only_on_own_stops(driver_client, driver, hub, route, make_stop):
    stop = make_stop()
    route.driver = DriverFactory(home_hub=hub)
    route.save()

    response = driver_client.post(f"/api/stops/{stop.pk}/arrive", {}, format="json")

    assert response.status_code == 404
    assert Stop.objects.get(pk=stop.pk).status == "planned"


def test_a_single_action_honours_the_idempotency_key(driver_client, driver, make_stop):
    stop = make_stop()
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}

    first = driver_client.post(
        f"/api/stops/{stop.pk}/skip", {"payload": {"reason": "out_of_time"}}, format="json", **headers
    )
    again = driver_client.post(
        f"/api/stops/{stop.pk}/skip", {"payload": {"reason": "out_of_time"}}, format="json", **headers
    )

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (200, 200, "true")
    assert StopEvent.objects.filter(stop=stop).count() == 1


def test_contact_goes_through_the_console_provider(driver_client, driver, make_stop, caplog):
    stop = make_stop(customer_phone="+358401234567")

    response = driver_client.post(f"/api/driver/stops/{stop.pk}/contact", {"channel": "call"}, format="json")

    assert (response.status_code, response.json()) == (
        200,
        {"channel": "call", "status": "ready", "connect_to": "tel:+358401234567"},
    )
    assert f"contact call for order {stop.order.merchant_reference} by Mikko Lahti" in caplog.text


def test_contact_without_a_number_is_refused(driver_client, driver, make_stop):
    stop = make_stop(customer_phone="")

    response = driver_client.post(f"/api/driver/stops/{stop.pk}/contact", {"channel": "sms"}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "contact_unavailable")


def test_contact_uses_the_configured_provider(driver_client, driver, make_stop, settings):
    settings.WAYPOINT_CONTACT_PROVIDER = "tests.dispatch.execution.test_execution_api.MaskingProvider"
    stop = make_stop(customer_phone="+358401234567")

    response = driver_client.post(
        f"/api/driver/stops/{stop.pk}/contact", {"channel": "sms", "message": "Hi"}, format="json"
    )

    assert response.json() == {"channel": "sms", "status": "sent", "connect_to": "+358 9 000 0000"}


class MaskingProvider:
    def contact(self, request):
        return ContactResult(status="sent", connect_to="+358 9 000 0000")
