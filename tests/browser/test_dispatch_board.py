"""The dispatch board in Chromium, with no tile server: optimize with live progress, drag a stop, dispatch.

The board needs WebSockets, which Django's WSGI live server does not speak, so the test serves the
real ASGI application with uvicorn on a thread of this process: the in-memory channel layer and the
in-memory test database are shared with the test, and Celery runs eagerly inside the request.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tenancy import Actor
from dispatch.models import Plan
from dispatch.planning.services.plans import plan_create
from orders.models import Order
from tests.factories.fleet import DAY, small_fleet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plan(hub, dispatcher_user):
    small_fleet(hub, parcels=4)
    actor = Actor(organization=dispatcher_user.organization, user=dispatcher_user)
    return plan_create(actor=actor, hub=hub, date=DAY, time_budget_s=3)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-12345!")
    page.get_by_role("button", name="Sign in").click()


def drag(page: Page, source, target) -> None:
    """HTML5 drag and drop as the browser fires it (dragstart, dragover, drop, dragend).

    Chromium started with the plain `--headless` switch delivers no native drag events to
    Playwright's mouse, so the same events are dispatched with one shared DataTransfer.
    """
    data = page.evaluate_handle("() => new DataTransfer()")
    source.dispatch_event("dragstart", {"dataTransfer": data})
    target.dispatch_event("dragenter", {"dataTransfer": data})
    target.dispatch_event("dragover", {"dataTransfer": data})
    target.dispatch_event("drop", {"dataTransfer": data})
    source.dispatch_event("dragend", {"dataTransfer": data})


def etas(route) -> list[str]:
    return route.get_by_test_id("stop-eta").all_inner_texts()


def test_dispatcher_optimizes_drags_a_stop_and_dispatches(asgi_server, plan, dispatcher_user, page: Page):
    sign_in(page, f"{asgi_server}/dispatch/plans/{plan.pk}/", dispatcher_user.username)
    expect(page.locator("#board")).to_have_attribute("data-live", "true")
    expect(page.get_by_test_id("plan-status")).to_have_text("draft")
    page.evaluate("""() => {
        window.progressSeen = [];
        const el = document.querySelector("[data-testid=progress-text]");
        new MutationObserver(() => window.progressSeen.push(el.textContent)).observe(el, {childList: true});
    }""")

    # when: optimize
    page.get_by_role("button", name="Optimize").click()

    # then: progress was pushed while solving, and the result is drawn
    expect(page.get_by_test_id("plan-status")).to_have_text("optimized", timeout=20_000)
    seen = page.evaluate("window.progressSeen")
    assert any(re.fullmatch(r"([1-9]|[1-9]\d)%", value) for value in seen), seen
    expect(page.get_by_test_id("progress-text")).to_have_text("100%")
    expect(page.get_by_test_id("best-cost")).to_contain_text("best")
    expect(page.get_by_test_id("route")).to_have_count(2)
    expect(page.get_by_test_id("stop")).to_have_count(6)
    expect(page.locator(".leaflet-overlay-pane svg path.route-line")).to_have_count(2)
    expect(page.locator(".leaflet-marker-pane .stop-marker")).to_have_count(7)  # 6 stops + the hub
    expect(page.locator(".leaflet-tile")).to_have_count(0)
    expect(page.locator("#board-map")).to_have_class(re.compile("wp-map--offline"))

    # when: drag the last stop of the longer route onto the first stop of the shorter one
    routes = page.get_by_test_id("route")
    sizes = [routes.nth(i).get_by_test_id("stop").count() for i in range(2)]
    source, target = (routes.nth(0), routes.nth(1)) if sizes[0] >= sizes[1] else (routes.nth(1), routes.nth(0))
    target_id = target.get_attribute("data-route")
    moved = source.get_by_test_id("stop").last
    moved_ref = moved.locator("span").nth(1).inner_text()
    before = etas(target)
    version = int(page.get_by_test_id("plan-version").inner_text())
    drag(page, moved, target.get_by_test_id("stop").first)

    # then: the stop is first on the other route and the route's times changed
    expect(page.get_by_test_id("plan-version")).to_have_text(str(version + 1))
    target = page.locator(f"[data-route='{target_id}']")
    expect(target.get_by_test_id("stop")).to_have_count(len(before) + 1)
    expect(target.get_by_test_id("stop").first).to_contain_text(moved_ref.split()[0])
    assert etas(target)[1:] != before

    # when: dispatch
    page.get_by_role("button", name="Dispatch").click()

    expect(page.get_by_test_id("plan-status")).to_have_text("dispatched")
    assert Plan.objects.get(pk=plan.pk).status == "dispatched"
    assert set(Order.objects.values_list("status", flat=True)) == {"dispatched"}
