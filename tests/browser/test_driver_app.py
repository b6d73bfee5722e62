"""The driver app on a phone: today's route, the shift started, a stop completed with a drawn
signature while offline, still there after an offline reload, and synced exactly once."""

import re

import pytest
from django.db import OperationalError
from django.test import Client
from playwright.sync_api import Page, expect

from dispatch.models import DeliveryProof, DriverAction, Route, Stop
from orders.models import Order
from tests.clock import START, TODAY, at
from tests.factories.fleet import DriverFactory, OrderFactory, PlanFactory, RouteFactory, StopFactory
from tracking.models import DriverPosition

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def route(hub, driver_user):
    driver = DriverFactory(home_hub=hub, user=driver_user, name="Mikko Lahti")
    plan = PlanFactory(hub=hub, date=TODAY, status="dispatched")
    route = RouteFactory(hub=hub, plan=plan, driver=driver, load_parcels=2)
    customers = [("Aino Virtanen", ["signature"], "Door code 1234"), ("Pekka Korhonen", [], "")]
    for sequence, (name, proofs, instructions) in enumerate(customers, start=1):
        order = OrderFactory(
            hub=hub,
            delivery_date=TODAY,
            status="dispatched",
            customer_name=name,
            proof_of_delivery=proofs,
            instructions=instructions,
        )
        StopFactory(
            route=route,
            order=order,
            sequence=sequence,
            status="planned",
            planned_arrival=at(TODAY, 9 + sequence),
            planned_departure=at(TODAY, 9 + sequence, 5),
        )
    return route


def _sign_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/driver/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-12345!")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/driver/$"))


def _draw_signature(page: Page) -> None:
    box = page.get_by_test_id("signature-pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 18, box["y"] + 30 + (step % 3) * 25, steps=3)
    page.mouse.up()


def test_a_driver_completes_a_stop_offline_and_it_syncs_once(asgi_server, page: Page, route, driver_user):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The phone's clock is the suite's, so the times it records are the server's day.
    page.clock.install(time=START)
    page.set_viewport_size({"width": 390, "height": 844})
    first, second = route.stops.order_by("sequence")

    _sign_in(page, asgi_server, driver_user)

    expect(page.get_by_test_id("next-stop")).to_contain_text("Aino")
    expect(page.get_by_test_id("next-stop")).to_contain_text("Door code 1234")
    expect(page.get_by_test_id("next-stop")).not_to_contain_text("Virtanen")  # first names only
    expect(page.get_by_test_id("stop")).to_have_count(2)
    expect(page.get_by_test_id("remaining-count")).to_have_text("2")
    expect(page.get_by_test_id("net-status")).to_have_text("Online")
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate(OVERFLOW) == 0

    page.get_by_role("button", name="Start shift").click()
    page.get_by_test_id("shift-dialog").get_by_role("button", name="Start shift").click()
    # the count is 0 before the action is queued too: the server's record is what tells
    _until(page, lambda: Route.objects.get(pk=route.pk).shift_started_at is not None)
    expect(page.get_by_test_id("unsynced-count")).to_have_text("0")
    # The service worker has the shell before the phone goes offline.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready")

    page.context.set_offline(True)
    expect(page.get_by_test_id("net-status")).to_have_text("Offline")
    next_stop = page.get_by_test_id("next-stop")
    next_stop.get_by_role("button", name="Arrived").click()
    next_stop.get_by_role("button", name="Complete delivery").click()
    _draw_signature(page)
    page.get_by_test_id("complete-dialog").get_by_label("Recipient's name").fill("Aino")
    page.get_by_test_id("complete-dialog").get_by_role("button", name="Complete delivery").click()

    expect(page.get_by_test_id("unsynced-count")).to_have_text("2")
    expect(page.get_by_test_id("done-count")).to_have_text("1")
    expect(page.get_by_test_id("next-stop")).to_contain_text("Pekka")
    assert DriverAction.objects.filter(stop=first).count() == 0
    assert Stop.objects.get(pk=first.pk).status == "planned"

    page.reload()
    expect(page.get_by_test_id("net-status")).to_have_text("Offline")
    expect(page.get_by_test_id("banner")).to_contain_text("showing the route saved on this phone")
    expect(page.get_by_test_id("unsynced-count")).to_have_text("2")
    expect(page.get_by_test_id("done-count")).to_have_text("1")
    expect(page.locator(f'[data-stop-id="{first.pk}"]')).to_contain_text("waiting to sync")

    page.context.set_offline(False)
    expect(page.get_by_test_id("unsynced-count")).to_have_text("0")
    expect(page.get_by_test_id("net-status")).to_have_text("Online")

    first.refresh_from_db()
    assert (first.status, first.recipient_name) == ("done", "Aino")
    assert Order.objects.get(pk=first.order_id).status == "delivered"
    assert list(DriverAction.objects.filter(stop=first).order_by("device_at").values_list("kind", "outcome")) == [
        ("arrive", "applied"),
        ("complete", "applied"),
    ]
    proof = DeliveryProof.objects.get(stop=first)
    assert (proof.kind, proof.content_type) == ("signature", "image/png")
    assert Stop.objects.get(pk=second.pk).status == "planned"

    # The second order is cancelled at the office: the driver's arrival is refused and says so.
    Order.objects.filter(pk=second.order_id).update(status="cancelled")
    page.get_by_test_id("next-stop").get_by_role("button", name="Arrived").click()
    rejection = page.locator(f'[data-stop-id="{second.pk}"]').get_by_test_id("stop-rejection")
    expect(rejection).to_contain_text("order_cancelled")
    expect(page.get_by_test_id("unsynced-count")).to_have_text("0")
    refused = DriverAction.objects.filter(outcome="rejected")
    assert [(a.kind, a.response["code"]) for a in refused] == [("arrive", "order_cancelled")]
    assert DriverAction.objects.count() == 4  # start_shift, arrive, complete, the refused arrive
    assert Stop.objects.get(pk=second.pk).status == "planned"
    assert errors == []


def _until(page: Page, condition) -> None:
    """Wait for a server-side condition the page brings about (the page's own timers send)."""
    for _ in range(100):
        try:
            if condition():
                return
        except OperationalError:  # SQLite's shared in-memory test database: a table locked by the server
            pass
        page.wait_for_timeout(100)
    raise AssertionError("the condition never held")


def test_positions_go_over_the_socket_on_shift_and_are_queued_offline(
    asgi_server, browser, route, driver_user, settings
):
    settings.WAYPOINT_DRIVER_POSITION_INTERVAL_S = 0.5
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": 60.1699, "longitude": 24.9384, "accuracy": 8},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.clock.install(time=START)
    driver = route.driver
    _sign_in(page, asgi_server, driver_user)
    expect(page.get_by_test_id("stop")).to_have_count(2)
    assert DriverPosition.objects.filter(driver=driver).count() == 0  # not before the shift

    page.get_by_role("button", name="Start shift").click()
    page.get_by_test_id("shift-dialog").get_by_role("button", name="Start shift").click()
    _until(page, lambda: DriverPosition.objects.filter(driver=driver, lat=60.1699).exists())

    context.set_offline(True)
    context.set_geolocation({"latitude": 60.1720, "longitude": 24.9410, "accuracy": 8})
    page.wait_for_function(
        """async () => {
            const queue = await import("/static/driver/queue.js");
            const queued = await (await queue.db()).getAll("positions");
            return queued.some((fix) => fix.lat === 60.172);
        }"""
    )
    assert not DriverPosition.objects.filter(driver=driver, lat=60.172).exists()

    context.set_offline(False)
    _until(page, lambda: DriverPosition.objects.filter(driver=driver, lat=60.172).exists())
    page.wait_for_function(
        """async () => {
            const queue = await import("/static/driver/queue.js");
            return (await (await queue.db()).getAll("positions")).length === 0;
        }"""
    )
    context.close()


def test_a_finnish_phone_gets_the_app_in_finnish(asgi_server, browser, route, driver_user):
    client = Client()
    client.force_login(driver_user)
    context = browser.new_context(locale="fi-FI", viewport={"width": 360, "height": 740})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server}])
    page = context.new_page()
    page.clock.install(time=START)

    page.goto(f"{asgi_server}/driver/")

    expect(page.get_by_test_id("net-status")).to_have_text("Verkossa")
    expect(page.get_by_role("button", name="Aloita vuoro")).to_be_visible()
    expect(page.get_by_test_id("next-stop")).to_contain_text("Seuraava pysähdys")
    assert page.evaluate("document.documentElement.lang") == "fi"
    assert page.evaluate(OVERFLOW) == 0
    context.close()


def test_the_map_loads_leaflet_only_once_scrolled_into_view(asgi_server, page: Page, route, driver_user):
    page.clock.install(time=START)
    page.set_viewport_size({"width": 390, "height": 600})
    _sign_in(page, asgi_server, driver_user)
    expect(page.get_by_test_id("stop")).to_have_count(2)
    # The map comes after the stop list, below the fold: no Leaflet on the page yet.
    assert page.evaluate("typeof window.L") == "undefined"
    assert page.locator("script[src*='leaflet']").count() == 0

    page.get_by_test_id("map").scroll_into_view_if_needed()

    markers = page.locator(".leaflet-marker-pane .stop-marker")
    expect(markers).to_have_count(2)
    expect(markers).to_have_text(["1", "2"])
    box = markers.first.bounding_box()
    assert (box["width"], box["height"]) == (28, 28)  # a touch target of at least 24 px
    # They only show where the stops are: not keyboard stops (the list is what the driver taps).
    expect(markers.first).not_to_have_attribute("tabindex", "0")
    expect(markers.first).not_to_have_attribute("role", "button")
    expect(markers.first.locator("span")).to_have_css("color", "rgb(255, 255, 255)")
