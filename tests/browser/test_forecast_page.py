"""An ops user opens the forecast page and sees the chart and a shortfall day."""

import re

import pytest
from playwright.sync_api import Page, expect

from common import clock
from dispatch.slots import route_fit
from tests.dispatch.forecast.test_forecast_service import history
from tests.dispatch.slots.test_slot_fixtures import make_crew

pytestmark = pytest.mark.django_db(transaction=True)


def test_dispatcher_sees_forecast_chart_and_shortfall(page: Page, live_server, dispatcher_user, hub):
    route_fit.cache_clear()
    make_crew(hub)  # 30 stops a day; Fridays bring 40
    history(hub, days=28, last=clock.now().astimezone(hub.tz).date())

    page.goto(f"{live_server.url}/dispatch/forecast/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(dispatcher_user.username)
    page.get_by_label("Password").fill("pw-12345!")
    page.get_by_role("button", name="Sign in").click()

    section = page.get_by_test_id("forecast-hel-1")
    expect(section.get_by_role("heading", name="Helsinki Central")).to_be_visible()
    chart = section.get_by_test_id("forecast-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(14)
    expect(chart.locator("rect.bar.shortfall")).to_have_count(2)
    expect(section.locator("tr.shortfall-row").first).to_contain_text("Fri")
    expect(section.locator("tr.shortfall-row").first).to_contain_text("Shortfall")
    expect(section).to_contain_text("2 shortfall days.")
