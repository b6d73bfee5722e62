"""The control tower in Chromium, with no tile server: a driver moves, ETAs change, an exception
appears and is acknowledged, and the page reconnects by itself after its socket drops.

Positions come from a real WebSocket client on `/ws/driver/`, through the same path as a phone.
The ASGI application is served by uvicorn on a thread of this process (Django's live server does
not speak WebSockets), so the in-memory channel layer and test database are shared with the test.
"""

import datetime as dt
import json
from contextlib import contextmanager

import pytest
from django.test import Client
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from common import clock
from dispatch.models import Driver, Plan, PlanStatus, Route, Stop, Vehicle
from orders.models import Order
from tracking.selectors.tower import organization_today

pytestmark = pytest.mark.django_db(transaction=True)
HUB_LNG = 24.9384


@pytest.fixture
def driver(organization, hub, driver_user):
    return Driver.objects.create(organization=organization, user=driver_user, name="Mikko Nieminen", home_hub=hub)


@pytest.fixture
def route(organization, hub, driver):
    """Today's dispatched route: stop A 1.1 km north of the hub, then B 2.2 km; windows end in 40 minutes."""
    now = clock.now()
    vehicle = Vehicle.objects.create(organization=organization, name="Van 1", type="van", home_hub=hub)
    plan = Plan.objects.create(
        organization=organization, hub=hub, date=organization_today(organization), status=PlanStatus.DISPATCHED
    )
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(minutes=40)
    for sequence, (reference, lat) in enumerate([("A", 60.1799), ("B", 60.1899)], start=1):
        order = Order.objects.create(
            organization=organization,
            hub=hub,
            merchant_reference=reference,
            customer_name=f"Customer {reference}",
            address_text=f"{reference} street",
            lat=lat,
            lng=HUB_LNG,
            status="out_for_delivery",
            time_windows=[{"start": start.isoformat(), "end": end.isoformat()}],
            window_start=start,
            window_end=end,
            delivery_date=organization_today(organization),
            service_minutes=5,
        )
        arrival = now + dt.timedelta(minutes=5 * sequence)
        Stop.objects.create(
            route=route,
            order=order,
            sequence=sequence,
            planned_arrival=arrival,
            planned_departure=arrival + dt.timedelta(minutes=5),
        )
    return route


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Phone:
    """The driver's app: a WebSocket client sending positions recorded a moment apart."""

    def __init__(self, socket):
        self.socket = socket
        self.sent = 0

    def send(self, lat: float) -> dict:
        # Each fix a second later than the previous, starting a minute ago, so each one is newest.
        recorded = clock.now() - dt.timedelta(seconds=60 - self.sent)
        self.sent += 1
        self.socket.send(
            json.dumps(
                {"type": "position", "recorded_at": recorded.isoformat(), "lat": lat, "lng": HUB_LNG, "speed_mps": 9.0}
            )
        )
        ack = json.loads(self.socket.recv(timeout=10))
        assert ack["accepted"] == 1, ack
        return ack


@contextmanager
def phone_of(base: str, user):
    url = base.replace("http", "ws") + "/ws/driver/"
    headers = {"Cookie": f"sessionid={session_cookie(user)}", "Origin": base}
    with connect(url, additional_headers=headers) as socket:
        yield Phone(socket)


def driver_lat(page: Page, hook: str, driver_id: int | None = None) -> float | None:
    argument = "null" if driver_id is None else str(driver_id)
    return page.evaluate(f"() => {{ const p = window.{hook}.driverLatLng({argument}); return p && p.lat; }}")


def test_the_tower_follows_a_driver_shows_exceptions_and_reconnects(
    asgi_server, page: Page, route, driver, dispatcher_user, driver_user
):
    # given
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie(dispatcher_user), "url": asgi_server}])
    page.goto(f"{asgi_server}/tower/")
    expect(page.get_by_test_id("connection")).to_have_text("live")
    expect(page.get_by_test_id("routes")).to_contain_text("Mikko Nieminen")
    expect(page.get_by_test_id("route-progress")).to_have_text("0/2")
    with phone_of(asgi_server, driver_user) as phone:
        follow_exceptions_and_reconnect(page, phone, driver)
    assert errors == []


def follow_exceptions_and_reconnect(page: Page, phone: Phone, driver) -> None:
    # when the driver reports near the hub, then 30 km away with 40 minutes left
    phone.send(60.1749)
    expect(page.get_by_test_id("drivers")).to_contain_text("60.17490, 24.93840")
    first_eta = page.get_by_test_id("next-eta").inner_text()
    phone.send(60.45)

    # then the marker moved, the ETA changed and the late-risk exception is in the feed
    expect(page.get_by_test_id("drivers")).to_contain_text("60.45000, 24.93840")
    assert driver_lat(page, "__waypointTower", driver.pk) == 60.45
    expect(page.get_by_test_id("next-eta")).not_to_have_text(first_eta)
    feed = page.get_by_test_id("exceptions")
    expect(feed).to_contain_text("Order A is expected")
    expect(page.locator("[data-kpi=late_risk]")).to_have_text("2")

    # when ops acknowledge it
    item = feed.locator("li[data-exception-id]", has_text="Order A is expected")
    item.get_by_role("button", name="Acknowledge").click()
    expect(item.get_by_test_id("exception-status")).to_have_text("acknowledged")

    # when the socket drops, the page reconnects by itself and later updates still arrive
    page.evaluate("() => window.__waypointSocket.close()")
    expect(page.get_by_test_id("connection")).to_have_text("reconnecting")
    expect(page.get_by_test_id("connection")).to_have_text("live")
    phone.send(60.1779)
    expect(page.get_by_test_id("drivers")).to_contain_text("60.17790, 24.93840")
    assert driver_lat(page, "__waypointTower", driver.pk) == 60.1779


def test_the_tower_hub_filter_hides_other_hubs(asgi_server, page: Page, route, organization, viewer_user):
    from dispatch.models import Hub

    Hub.objects.create(
        organization=organization,
        code="esp-1",
        name="Espoo",
        address="Espoo 1",
        lat=60.2,
        lng=24.65,
        timezone="Europe/Helsinki",
    )
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie(viewer_user), "url": asgi_server}])
    page.goto(f"{asgi_server}/tower/")
    expect(page.locator("[data-kpi=pending]")).to_have_text("2")
    # the route's line (hub, stops, hub: straight here, along the streets with road data)
    expect(page.locator(".leaflet-overlay-pane path.route-line")).to_have_count(1)

    page.get_by_test_id("hub-filter").select_option(label="Espoo")

    expect(page.get_by_test_id("routes")).to_have_text("No dispatched routes.")
    expect(page.locator(".leaflet-overlay-pane path.route-line")).to_have_count(0)
    expect(page.locator("[data-kpi=pending]")).to_have_text("0")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)  # viewers only read


def test_the_tower_shows_the_days_eta_error(asgi_server, page: Page, route, viewer_user):
    from dispatch.execution.services.stops import stop_arrive
    from tracking.models import EtaPrediction

    # Stop A was shown 12 minutes early an hour before the driver came, 2 minutes late 10 minutes before.
    stop = route.stops.get(sequence=1)
    arrived = clock.now() - dt.timedelta(minutes=1)
    for made_before, error in ((70, 12), (15, -2)):
        predicted = arrived + dt.timedelta(minutes=error)
        made = arrived - dt.timedelta(minutes=made_before)
        EtaPrediction.objects.create(
            stop=stop,
            predicted_arrival=predicted,
            window_start=predicted,
            window_end=predicted,
            made_at=made,
            horizon_minutes=round((predicted - made).total_seconds() / 60),
        )
    stop_arrive(actor=None, stop=stop, at=arrived)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie(viewer_user), "url": asgi_server}])

    page.goto(f"{asgi_server}/tower/")

    panel = page.get_by_test_id("eta-error")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading")).to_have_text("ETA error today")
    expect(panel.locator("[data-horizon='10'] [data-stat=p90]")).to_have_text("2.0")
    expect(panel.locator("[data-horizon='30'] [data-stat=p90]")).to_have_text("12.0")
    expect(panel.locator("[data-horizon='60'] [data-stat=p90]")).to_have_text("12.0")
    expect(panel).to_contain_text("over 1 stop arrived")
    expect(page.get_by_test_id("connection")).to_have_text("live")
    assert errors == []
