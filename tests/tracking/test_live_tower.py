"""The control tower pages, its exception actions, the KPIs and the live part of the tracking page."""

# The route fixtures are shared with the socket tests by import, which ruff reads as redefinitions.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.test import Client

from orders.models import OrderEvent
from tests.tracking.test_consumers import HUB_LNG, live_route, make_order, now, orders  # noqa: F401
from tracking.models import DeliveryException, ExceptionEvent, StopEta
from tracking.selectors.tower import kpis_for_day, organization_today
from tracking.services.exceptions import exception_raise
from tracking.services.positions import position_receive

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fix(lat, seconds_ago=0) -> dict:
    return {"recorded_at": now() - dt.timedelta(seconds=seconds_ago), "lat": lat, "lng": HUB_LNG}


@pytest.fixture
def late_risk(organization, orders):
    return exception_raise(
        organization=organization,
        kind="late_risk",
        cause=f"late_risk:order:{orders['A'].pk}",
        message="Order A is expected 12 min after its window ends.",
        order=orders["A"],
    )


def test_the_tower_renders_todays_snapshot_for_office_staff(viewer_user, live_route, late_risk):
    response = signed_in(viewer_user).get("/tower/")

    assert response.status_code == 200
    snapshot = response.context["snapshot"]
    assert [r["id"] for r in snapshot["routes"]] == [live_route.pk]
    assert [e["id"] for e in snapshot["exceptions"]] == [late_risk.pk]
    assert b'id="tower-data"' in response.content
    assert b"/static/vendor/leaflet/leaflet.js" in response.content


def test_drivers_cannot_open_the_tower_and_strangers_are_sent_to_sign_in(driver_user, client):
    assert signed_in(driver_user).get("/tower/").status_code == 403
    assert client.get("/tower/").url == "/login/?next=/tower/"


def test_route_drill_down_shows_progress_and_etas(dispatcher_user, live_route, orders, driver):
    position_receive(driver=driver, fixes=[fix(60.1749)])
    orders["A"].status = "delivered"
    orders["A"].save()

    response = signed_in(dispatcher_user).get(f"/tower/routes/{live_route.pk}/")

    assert response.status_code == 200
    assert response.context["done"] == 1
    assert [row["state"] for row in response.context["rows"]] == ["delivered", "planned"]
    assert response.context["rows"][1]["eta"] is not None


def test_order_drill_down_shows_the_timeline_and_proof_of_delivery(dispatcher_user, orders):
    order = orders["A"]
    proof = {"signature": "A. Virtanen", "photo": "pod/1.jpg"}
    OrderEvent.objects.create(
        order=order,
        kind="order_delivered",
        actor="user:driver",
        from_status="arrived",
        to_status="delivered",
        details=proof,
    )

    response = signed_in(dispatcher_user).get(f"/tower/orders/{order.pk}/")

    assert response.status_code == 200
    assert [e.kind for e in response.context["events"]] == ["order_delivered"]
    assert response.context["proof"] == {"signature": "A. Virtanen", "photo": "pod/1.jpg"}
    assert b"A. Virtanen" in response.content


def test_drill_downs_of_another_organization_are_not_found(other_organization, live_route, orders):
    from accounts.services import user_create

    foreign = user_create(organization=other_organization, username="o-admin", password="pw-12345!", role="admin")
    client = signed_in(foreign)

    assert client.get(f"/tower/routes/{live_route.pk}/").status_code == 404
    assert client.get(f"/tower/orders/{orders['A'].pk}/").status_code == 404


def test_acknowledge_then_resolve_an_exception(dispatcher_client, late_risk):
    acknowledged = dispatcher_client.post(f"/api/exceptions/{late_risk.pk}/acknowledge", {"note": "calling"})
    resolved = dispatcher_client.post(f"/api/exceptions/{late_risk.pk}/resolve", {"note": "new time agreed"})

    assert (acknowledged.status_code, acknowledged.json()["status"]) == (200, "acknowledged")
    assert (resolved.status_code, resolved.json()["status"]) == (200, "resolved")
    assert list(ExceptionEvent.objects.filter(exception=late_risk).values_list("kind", "actor", "note")) == [
        ("raised", "system", "Order A is expected 12 min after its window ends."),
        ("acknowledged", "user:acme-dispatcher", "calling"),
        ("resolved", "user:acme-dispatcher", "new time agreed"),
    ]


def test_a_resolved_exception_cannot_be_acknowledged(dispatcher_client, late_risk):
    dispatcher_client.post(f"/api/exceptions/{late_risk.pk}/resolve", {"note": "done"})

    response = dispatcher_client.post(f"/api/exceptions/{late_risk.pk}/acknowledge", {})

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_exception_transition"
    assert ExceptionEvent.objects.filter(exception=late_risk).count() == 2


def test_assign_to_oneself(dispatcher_client, late_risk):
    response = dispatcher_client.post(f"/api/exceptions/{late_risk.pk}/assign", {})

    assert response.json()["assigned_to"] == "acme-dispatcher"


def test_viewers_and_other_organizations_cannot_act_on_exceptions(viewer_client, late_risk, other_organization):
    from accounts.services import user_create
    from tests.conftest import client_for

    foreign = user_create(organization=other_organization, username="o-admin", password="pw-12345!", role="admin")

    assert viewer_client.post(f"/api/exceptions/{late_risk.pk}/acknowledge", {}).status_code == 403
    assert client_for(foreign).post(f"/api/exceptions/{late_risk.pk}/acknowledge", {}).status_code == 404
    assert DeliveryException.objects.get().status == "open"


def test_kpis_count_delivered_on_time_failed_pending_and_late_risk(organization, hub, orders):
    day = organization_today(organization)
    delivered_late = make_order(organization, hub, "C", 60.17, window_end=now() - dt.timedelta(minutes=30))
    for order, kind, at in [(orders["A"], "order_delivered", now()), (delivered_late, "order_delivered", now())]:
        order.status = "delivered"
        order.save()
        OrderEvent.objects.create(order=order, kind=kind, actor="system", at=at)
    make_order(organization, hub, "D", 60.17).__class__.objects.filter(merchant_reference="D").update(status="failed")
    stop_b = orders["B"].stops.get()
    StopEta.objects.create(stop=stop_b, eta=now(), window_start=now(), window_end=now(), late=True)

    kpis = kpis_for_day(organization=organization, day=day)

    expected = {"delivered": 2, "failed": 1, "pending": 1, "on_time_pct": 50.0, "late_risk": 1}
    assert kpis == {"all": expected, "hubs": {str(hub.pk): expected}}


def test_the_tracking_page_shows_the_window_and_the_driver_only_while_heading_there(client, orders, driver):
    position_receive(driver=driver, fixes=[fix(60.1749)])

    page_a = client.get(f"/t/{orders['A'].tracking_token}")
    page_b = client.get(f"/t/{orders['B'].tracking_token}")

    assert page_a.context["live"]["driver"]["driver_first_name"] == "Mikko"
    assert page_a.context["live"]["driver"]["lat"] == 60.1749
    assert page_b.context["live"]["driver"] is None
    assert b"Mikko" not in page_b.content
    assert b"Nieminen" not in page_a.content  # first name only
    assert page_b.context["live_window"] is not None
    assert b"Arriving between" in page_b.content


def test_a_delivered_order_shows_no_window_and_no_driver(client, orders, driver):
    position_receive(driver=driver, fixes=[fix(60.1749)])
    orders["A"].status = "delivered"
    orders["A"].save()

    page = client.get(f"/t/{orders['A'].tracking_token}")

    assert page.context["live"] == {
        "type": "snapshot",
        "status": "delivered",
        "eta_window_start": None,
        "eta_window_end": None,
        "driver": None,
        "path": [],
    }
