"""Issue 13 as a new user tries it: a driver's day on a phone, offline, synced exactly once.

The driver signs in, starts the shift and goes offline; completes three stops (a drawn signature,
a photo, the customer's one-time code read from the customer's own tracking page) and fails one
with a reason; reloads while still offline; comes back online. Then the orders' histories, the
control tower, the tracking pages and the proofs all tell the same story once, and the failed
order follows the organization's policy. The same day with the connection flapping ten times
loses and duplicates nothing, and a driver standing at a stop without tapping is marked arrived.
"""

import io
import re

import pytest
from django.test import Client
from PIL import Image
from playwright.sync_api import Page, expect

from dispatch.models import DeliveryProof, DriverAction, Route, Stop
from orders.models import Order, OrderEvent
from orders.services import order_transition
from tests.browser.test_driver_app import _draw_signature, _sign_in, _until
from tests.clock import START, TODAY, at
from tests.factories.fleet import DriverFactory, OrderFactory, PlanFactory, RouteFactory, StopFactory
from tracking.models import DeliveryException

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
# Four customers along the route: what each order asks for at the door.
CUSTOMERS = [
    ("Aino Virtanen", ["signature"]),
    ("Pekka Korhonen", ["photo"]),
    ("Liisa Mäkinen", ["one_time_code"]),
    ("Juha Nieminen", []),
]


@pytest.fixture
def day_route(organization, hub, driver_user):
    """Today's dispatched route of four stops, active now; a failed delivery is left to the customer."""
    organization.reattempt_same_day = False
    organization.reschedule_policy = "customer_picks"
    organization.save()
    driver = DriverFactory(home_hub=hub, user=driver_user, name="Mikko Lahti")
    plan = PlanFactory(hub=hub, date=TODAY, status="dispatched")
    route = RouteFactory(
        hub=hub, plan=plan, driver=driver, load_parcels=4, start_time=at(TODAY, 8), end_time=at(TODAY, 16)
    )
    windows = [{"start": at(TODAY, 8).isoformat(), "end": at(TODAY, 16).isoformat()}]
    for sequence, (name, proofs) in enumerate(CUSTOMERS, start=1):
        order = OrderFactory(
            hub=hub,
            status="planned",
            customer_name=name,
            proof_of_delivery=proofs,
            delivery_date=TODAY,
            time_windows=windows,
            window_start=at(TODAY, 8),
            window_end=at(TODAY, 16),
        )
        # Dispatched the real way: the one-time code is made when the order is dispatched.
        order_transition(actor=None, order=order, to_status="dispatched")
        StopFactory(
            route=route,
            order=order,
            sequence=sequence,
            planned_arrival=at(TODAY, 8 + sequence),
            planned_departure=at(TODAY, 8 + sequence, 5),
        )
    return route


def door_photo() -> dict:
    image = Image.new("RGB", (1600, 1200), (120, 90, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def start_shift(page: Page, route) -> None:
    page.get_by_role("button", name="Start shift").click()
    page.get_by_test_id("shift-dialog").get_by_role("button", name="Start shift").click()
    _until(page, lambda: Route.objects.get(pk=route.pk).shift_started_at is not None)
    expect(page.get_by_test_id("unsynced-count")).to_have_text("0")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def next_stop_button(page: Page, name: str) -> None:
    page.get_by_test_id("next-stop").get_by_role("button", name=name).click()


def complete(page: Page, *, signature=False, photo=None, code="", recipient="") -> None:
    next_stop_button(page, "Arrived")
    next_stop_button(page, "Complete delivery")
    dialog = page.get_by_test_id("complete-dialog")
    if signature:
        _draw_signature(page)
    if photo:
        dialog.locator("input[name=photo]").set_input_files(photo)
    if code:
        dialog.get_by_label("One-time code").fill(code)
    if recipient:
        dialog.get_by_label("Recipient's name").fill(recipient)
    dialog.get_by_role("button", name="Complete delivery").click()
    expect(dialog).to_be_hidden()


def fail(page: Page, *, reason: str, note: str) -> None:
    next_stop_button(page, "Arrived")
    next_stop_button(page, "Could not deliver")
    dialog = page.get_by_test_id("fail-dialog")
    dialog.get_by_label("Reason").select_option(reason)
    dialog.get_by_label("Note").fill(note)
    dialog.get_by_role("button", name="Could not deliver").click()
    expect(dialog).to_be_hidden()


def code_on_tracking_page(page: Page, base: str, order: Order) -> str:
    """What the customer reads on their own tracking page (another tab of the test's browser)."""
    customer = page.context.browser.new_page()
    customer.goto(f"{base}/t/{order.tracking_token}")
    code = customer.get_by_test_id("delivery-code-value").inner_text().strip()
    customer.close()
    return code


def histories(route) -> dict[str, list[str]]:
    orders = Order.objects.filter(stops__route=route).order_by("stops__sequence")
    return {
        o.customer_name: list(OrderEvent.objects.filter(order=o).order_by("at", "id").values_list("kind", flat=True))
        for o in orders
    }


def test_a_drivers_day_offline_reaches_every_screen_exactly_once(
    asgi_server, page: Page, day_route, driver_user, dispatcher_user
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.clock.install(time=START)
    page.set_viewport_size(PHONE)
    signature_stop, photo_stop, code_stop, failed_stop = day_route.stops.order_by("sequence")

    # given a driver who signed in, opened today's route and started the shift
    _sign_in(page, asgi_server, driver_user)
    expect(page.get_by_test_id("stop")).to_have_count(4)
    start_shift(page, day_route)
    code = code_on_tracking_page(page, asgi_server, code_stop.order)
    assert re.fullmatch(r"\d{6}", code)

    # when, offline, three stops are completed with their proofs and one fails with a reason
    page.context.set_offline(True)
    expect(page.get_by_test_id("net-status")).to_have_text("Offline")
    complete(page, signature=True, recipient="Aino")
    complete(page, photo=door_photo())
    complete(page, code=code)
    fail(page, reason="customer_absent", note="Nobody answered, rang twice")
    expect(page.get_by_test_id("unsynced-count")).to_have_text("8")
    expect(page.get_by_test_id("done-count")).to_have_text("3")
    expect(page.get_by_test_id("remaining-count")).to_have_text("0")
    assert DriverAction.objects.exclude(kind="start_shift").count() == 0

    # and the page is reloaded while still offline: the route and the queue are intact
    page.reload()
    expect(page.get_by_test_id("net-status")).to_have_text("Offline")
    expect(page.get_by_test_id("stop")).to_have_count(4)
    expect(page.get_by_test_id("unsynced-count")).to_have_text("8")

    # then, back online, everything is applied once
    page.context.set_offline(False)
    expect(page.get_by_test_id("unsynced-count")).to_have_text("0")
    assert [s.status for s in day_route.stops.order_by("sequence")] == ["done", "done", "done", "failed"]
    applied = DriverAction.objects.filter(outcome="applied")
    assert sorted(applied.values_list("kind", flat=True)) == sorted(
        ["start_shift", *["arrive"] * 4, *["complete"] * 3, "fail"]
    )
    assert DriverAction.objects.filter(outcome="rejected").count() == 0
    code_stop.refresh_from_db()
    assert code_stop.code_verified
    assert sorted(DeliveryProof.objects.values_list("stop_id", "kind")) == sorted(
        [(signature_stop.pk, "signature"), (photo_stop.pk, "photo")]
    )
    # each order's history has each step once
    for name, kinds in histories(day_route).items():
        assert kinds.count("order_delivered") + kinds.count("order_failed") == 1, name
        assert kinds.count("order_arrived") == 1, name
    failed_order = Order.objects.get(pk=failed_stop.order_id)
    assert failed_order.status == "rescheduled"  # the policy: the customer picks a new slot
    assert "failure_policy_decided" in histories(day_route)["Juha Nieminen"]
    [exception] = DeliveryException.objects.filter(order=failed_order, kind="failed_attempt")
    assert "customer not at home" in exception.message.lower()

    # the control tower's progress, the tracking pages and the proofs for ops say the same
    office = page.context.browser.new_context()
    office.add_cookies([{"name": "sessionid", "value": _session(dispatcher_user), "url": asgi_server}])
    tower = office.new_page()
    tower.goto(f"{asgi_server}/tower/")
    expect(tower.locator("[data-kpi=delivered]")).to_have_text("3")
    order_page = office.new_page()
    order_page.goto(f"{asgi_server}/tower/orders/{signature_stop.order_id}/")
    signature = order_page.get_by_test_id("proof-signature").locator("img")
    expect(signature).to_be_visible()
    # the image really loaded: the signed URL served the PNG the phone drew
    assert order_page.evaluate("(img) => img.complete && img.naturalWidth > 0", signature.element_handle())
    customer = office.new_page()
    customer.goto(f"{asgi_server}/t/{photo_stop.order.tracking_token}")
    expect(customer.get_by_test_id("status")).to_have_text("Delivered")
    customer.goto(f"{asgi_server}/t/{failed_order.tracking_token}")
    expect(customer.get_by_test_id("pick-slot")).to_be_visible()
    office.close()
    assert errors == []


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_a_flapping_connection_loses_and_duplicates_nothing(asgi_server, page: Page, day_route, driver_user):
    page.clock.install(time=START)
    page.set_viewport_size(PHONE)
    _sign_in(page, asgi_server, driver_user)
    start_shift(page, day_route)
    code = code_on_tracking_page(page, asgi_server, day_route.stops.get(sequence=3).order)
    steps = [
        lambda: complete(page, signature=True, recipient="Aino"),
        lambda: complete(page, photo=door_photo()),
        lambda: complete(page, code=code),
        lambda: fail(page, reason="access_restricted", note="Gate locked"),
    ]
    offline = False
    for flap in range(10):
        offline = not offline
        page.context.set_offline(offline)
        if flap < len(steps):
            steps[flap]()
        page.wait_for_timeout(300)  # let a sync start (and be cut) before the next flap
    page.context.set_offline(False)

    expect(page.get_by_test_id("unsynced-count")).to_have_text("0")
    per_stop = {
        stop.sequence: list(DriverAction.objects.filter(stop=stop).order_by("id").values_list("kind", "outcome"))
        for stop in day_route.stops.all()
    }
    assert per_stop == {
        1: [("arrive", "applied"), ("complete", "applied")],
        2: [("arrive", "applied"), ("complete", "applied")],
        3: [("arrive", "applied"), ("complete", "applied")],
        4: [("arrive", "applied"), ("fail", "applied")],
    }
    assert DeliveryProof.objects.count() == 2
    for name, kinds in histories(day_route).items():
        assert kinds.count("order_arrived") == 1, name


def test_a_driver_standing_at_a_stop_without_tapping_is_marked_arrived(
    asgi_server, browser, day_route, driver_user, settings
):
    settings.WAYPOINT_DRIVER_POSITION_INTERVAL_S = 0.5
    settings.WAYPOINT_GEOFENCE_DWELL_S = 2
    first = day_route.stops.get(sequence=1)
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"latitude": first.order.lat, "longitude": first.order.lng, "accuracy": 8},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.clock.install(time=START)
    _sign_in(page, asgi_server, driver_user)
    start_shift(page, day_route)

    _until(page, lambda: Stop.objects.get(pk=first.pk).status == "arrived")

    first.refresh_from_db()
    assert first.arrival_source == "geofence"
    assert Order.objects.get(pk=first.order_id).status == "arrived"
    assert not DriverAction.objects.filter(stop=first, kind="arrive").exists()  # nobody tapped
    context.close()
