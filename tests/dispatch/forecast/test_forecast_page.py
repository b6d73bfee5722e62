"""The forecast page: ops roles see forecast against capacity per hub, shortfall days marked."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.test import Client

from dispatch.models import Hub
from tests.dispatch.forecast.test_forecast_service import history
from tests.dispatch.slots.test_slot_fixtures import crew, frozen  # noqa: F401

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_viewer_sees_the_chart_and_the_shortfall_day(viewer_user, hub, crew, other_organization, frozen):
    history(hub, days=28)
    Hub.objects.create(
        organization=other_organization,
        code="theirs",
        name="Their hub",
        address="x",
        lat=60.1,
        lng=24.9,
        service_radius_km=5,
    )

    response = signed_in(viewer_user).get("/dispatch/forecast/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="forecast-chart"') == 1
    assert page.count('class="bar shortfall"') == 2  # Fridays 4 and 11 December
    assert 'class="shortfall-row" data-date="2026-12-04"' in page
    assert "2 shortfall days." in page
    assert "fitted on 28 days of history" in page
    assert "Their hub" not in page


def test_a_hub_without_history_says_so(admin_user, hub, frozen):
    page = signed_in(admin_user).get("/dispatch/forecast/").content.decode()

    assert "No order history yet: nothing to forecast." in page


def test_drivers_and_strangers_cannot_open_it(driver_user, frozen):
    assert signed_in(driver_user).get("/dispatch/forecast/").status_code == 403
    anonymous = Client().get("/dispatch/forecast/")
    assert (anonymous.status_code, anonymous["Location"]) == (302, "/login/?next=/dispatch/forecast/")
    assert dt
