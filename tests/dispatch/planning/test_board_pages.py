"""Server-rendered dispatch pages: the day's plans, the board, drivers' routes, the offline basemap."""

import datetime as dt

import pytest
from django.test import Client

from dispatch.models import Plan
from dispatch.planning.views import basemap_path
from orders.models import Order
from tests.factories.fleet import DAY, PlanFactory
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dispatcher_creates_a_plan_from_the_day_page(dispatcher_user, hub):
    client = signed_in(dispatcher_user)

    page = client.get(f"/dispatch/?date={DAY}")
    response = client.post(
        f"/dispatch/?date={DAY}", {"hub": hub.pk, "date": str(DAY), "objective": "cost", "time_budget_s": 5}
    )

    plan = Plan.objects.get()
    assert page.status_code == 200
    assert b"No plans for this day yet." in page.content
    assert response.status_code == 302
    assert response["Location"] == f"/dispatch/plans/{plan.pk}/"
    assert (plan.hub_id, plan.date, plan.wave, plan.status) == (hub.pk, DAY, 1, "draft")


def test_viewer_sees_the_board_without_edit_buttons(viewer_user, hub):
    plan = PlanFactory(hub=hub)

    response = signed_in(viewer_user).get(f"/dispatch/plans/{plan.pk}/")

    assert response.status_code == 200
    assert b'id="plan-data"' in response.content
    assert b'data-action="optimize"' not in response.content
    assert b"/static/vendor/leaflet/leaflet.js" in response.content


def test_board_of_another_organization_is_404_and_drivers_are_403(hub, other_organization, driver_user):
    from accounts.services import user_create

    plan = PlanFactory(hub=hub)
    outsider = user_create(organization=other_organization, username="o", password="pw-12345!", role="admin")

    assert signed_in(outsider).get(f"/dispatch/plans/{plan.pk}/").status_code == 404
    assert signed_in(driver_user).get(f"/dispatch/plans/{plan.pk}/").status_code == 403
    assert signed_in(driver_user).get("/driver/").status_code == 200
    moved = signed_in(driver_user).get("/driver/routes/")
    assert (moved.status_code, moved["Location"]) == (301, "/driver/")


def test_stale_optimization_shows_as_failed_on_the_board_without_writing(dispatcher_user, hub):
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    plan = PlanFactory(hub=hub, status="optimizing", started_at=long_ago, heartbeat_at=long_ago)

    response = signed_in(dispatcher_user).get(f"/dispatch/plans/{plan.pk}/")

    assert response.status_code == 200
    assert b"Retry to optimize again" in response.content
    assert (Plan.objects.get(pk=plan.pk).status, plan.events.count()) == ("optimizing", 0)  # the sweeper records it


def test_basemap_is_404_when_absent_and_served_when_built(client, tmp_path, settings):
    settings.BASE_DIR = tmp_path

    missing = client.get("/maps/basemap.geojson")
    basemap_path().parent.mkdir(parents=True)
    basemap_path().write_text('{"type": "FeatureCollection", "features": []}')
    present = client.get("/maps/basemap.geojson")

    assert missing.status_code == 404
    assert present.status_code == 200
    assert present["Content-Type"] == "application/geo+json"
    assert b"".join(present.streaming_content) == b'{"type": "FeatureCollection", "features": []}'


def test_dispatch_home_opens_on_the_first_day_with_orders_waiting(client, dispatcher_user, merchant_client, hub):
    merchant_client.post("/api/orders", order_payload("SO-NEXT"), format="json")  # a window tomorrow
    client.force_login(dispatcher_user)

    page = client.get("/dispatch/")

    assert page.context["day"] == Order.objects.get().delivery_date
