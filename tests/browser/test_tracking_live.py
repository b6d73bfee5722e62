"""The customer's tracking page in Chromium: the driver appears only while heading to this stop, the
ETA window changes live, the page reconnects by itself, and a plain reload shows the same truth."""

# The server and route fixtures are shared with the tower test by import (ruff reads redefinitions).
# ruff: noqa: F811

import re

import pytest
from playwright.sync_api import Page, expect

from dispatch.models import Stop
from tests.browser.test_control_tower import driver, driver_lat, phone_of, route  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
WINDOW = re.compile(r"^Arriving between \d\d:\d\d and \d\d:\d\d$")


def test_the_tracking_page_follows_the_driver_heading_here_and_reconnects(
    asgi_server, page: Page, route, driver, driver_user
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # given the customer of stop A and, in another tab, the customer of stop B
    order_a, order_b = (stop.order for stop in route.stops.order_by("sequence"))
    page.goto(f"{asgi_server}/t/{order_a.tracking_token}")
    other = page.context.new_page()
    other.goto(f"{asgi_server}/t/{order_b.tracking_token}")
    expect(page.get_by_test_id("driver-map")).to_be_hidden()
    expect(page.get_by_test_id("eta-window")).to_be_hidden()
    expect(page.locator("#live[data-connection=live]")).to_have_count(1)
    expect(other.locator("#live[data-connection=live]")).to_have_count(1)

    with phone_of(asgi_server, driver_user) as phone:
        # when the driver, heading to A, reports near the hub
        phone.send(60.1749)

        # then A sees the driver (first name only) and a window; B sees its window, never the driver
        expect(page.get_by_test_id("driver-map")).to_be_visible()
        expect(page.get_by_test_id("driver-name")).to_have_text("Mikko")
        expect(page.get_by_test_id("eta-window")).to_have_text(WINDOW)
        assert driver_lat(page, "__waypointTracking") == 60.1749
        expect(other.get_by_test_id("eta-window")).to_have_text(WINDOW)
        expect(other.get_by_test_id("driver-map")).to_be_hidden()
        assert driver_lat(other, "__waypointTracking") is None
        first_window = page.get_by_test_id("eta-window").inner_text()

        # when the driver is pushed 30 km away, the window changes and the driver leaves the page
        # (shown only within WAYPOINT_TRACKING_DRIVER_RADIUS_M of the stop)
        phone.send(60.45)
        expect(page.get_by_test_id("eta-window")).not_to_have_text(first_window)
        expect(page.get_by_test_id("driver-map")).to_be_hidden()

        # when the socket drops, the page reconnects by itself and later positions still arrive
        page.evaluate("() => window.__waypointSocket.close()")
        expect(page.locator("#live[data-connection=live]")).to_have_count(1)
        phone.send(60.1779)
        page.wait_for_function("() => window.__waypointTracking.driverLatLng()?.lat === 60.1779")

        # a plain reload shows the same truth, from the server-rendered snapshot
        page.reload()
        expect(page.get_by_test_id("driver-name")).to_have_text("Mikko")
        assert driver_lat(page, "__waypointTracking") == 60.1779
        # with the driver's way here (straight without road data; along the streets with it)
        expect(page.locator(".leaflet-overlay-pane path.route-line")).to_have_count(1)

        # when A is done and the driver heads to B, A's page hides the driver (and the way) and B's shows it
        Stop.objects.filter(order=order_a).update(status="done")
        phone.send(60.1849)
        expect(page.get_by_test_id("driver-map")).to_be_hidden()
        expect(page.locator(".leaflet-overlay-pane path.route-line")).to_have_count(0)
        expect(other.get_by_test_id("driver-name")).to_have_text("Mikko")
        other.wait_for_function("() => window.__waypointTracking.driverLatLng()?.lat === 60.1849")
    assert "Nieminen" not in other.content()
    assert errors == []
