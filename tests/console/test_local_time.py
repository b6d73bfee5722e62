"""Pages show times in the hub's time zone (else the organization's), in one format naming the zone."""

import datetime as dt

import pytest
from django.test import Client

from accounts.models import Organization
from console.templatetags.local_time import local_clock, local_time, local_window, zone_name
from dispatch.models import Hub
from tests.clock import START
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db

# Tomorrow 08:00–10:00 UTC is 10:00–12:00 in Helsinki (EET, UTC+2 in December).
UTC_WINDOW = [{"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T10:00:00Z"}]
HELSINKI_WINDOW = "Tue 1 Dec 2026, 10:00–12:00 EET"


@pytest.fixture
def browser(viewer_user):
    client = Client()
    client.force_login(viewer_user)
    return client


@pytest.fixture
def order_id(merchant_client, hub):
    response = merchant_client.post("/api/orders", order_payload("SO-UTC", time_windows=UTC_WINDOW), format="json")
    return response.json()["id"]


def test_the_orders_list_shows_the_window_in_the_hubs_time_zone(browser, order_id):
    html = browser.get("/orders/").content.decode()

    assert HELSINKI_WINDOW in html
    assert "08:00" not in html


def test_the_overview_shows_the_window_in_the_hubs_time_zone(browser, order_id):
    html = browser.get("/").content.decode()

    assert HELSINKI_WINDOW in html


def test_the_order_page_shows_its_history_and_windows_in_the_hubs_time_zone(
    browser, time_machine, merchant_client, hub
):
    time_machine.move_to(dt.datetime(2026, 11, 30, 6, 5, tzinfo=dt.UTC), tick=False)
    order_id = merchant_client.post("/api/orders", order_payload(time_windows=UTC_WINDOW), format="json").json()["id"]

    html = browser.get(f"/orders/{order_id}/").content.decode()

    assert "<td>Mon 30 Nov 2026, 08:05 EET</td>" in html
    assert f"{HELSINKI_WINDOW}<br>" in html


def test_a_hub_in_another_zone_shows_its_own_time(browser, merchant_client, hub):
    Hub.objects.create(
        organization=hub.organization,
        code="lon-1",
        name="London desk",
        address="x",
        lat=hub.lat,
        lng=hub.lng,
        timezone="Europe/London",
        service_radius_km=10,
    )
    merchant_client.post("/api/orders", order_payload(hub="lon-1", time_windows=UTC_WINDOW), format="json")

    html = browser.get("/orders/").content.decode()

    assert "Tue 1 Dec 2026, 08:00–10:00 GMT" in html


def test_the_api_keys_page_shows_times_in_the_organizations_zone(admin_user, api_key):
    client = Client()
    client.force_login(admin_user)

    html = client.get("/settings/api-keys/").content.decode()

    assert f"<td>{local_time(api_key.created_at, admin_user.organization)}</td>" in html
    assert local_time(api_key.created_at, admin_user.organization).endswith(" EET")


def test_summer_time_is_named_for_the_instant_shown(hub):
    instant = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)

    assert local_time(instant, hub) == "Wed 1 Jul 2026, 12:00 EEST"
    assert local_clock(instant, hub) == "12:00"


def test_without_a_hub_the_organizations_zone_is_used():
    organization = Organization(name="NY", slug="ny", timezone="America/New_York")
    instant = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.UTC)

    assert local_time(instant, organization) == "Tue 1 Dec 2026, 10:30 EST"


def test_a_window_across_midnight_names_both_days(hub):
    start = dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.UTC)

    window = local_window(start, start + dt.timedelta(hours=2), hub)

    assert window == "Tue 1 Dec 2026, 23:00 EET – Wed 2 Dec 2026, 01:00 EET"


def test_missing_times_and_unknown_zones_render_safely():
    assert local_time(None, "Europe/Helsinki") == ""
    assert local_time(START, "Not/AZone") == "Mon 30 Nov 2026, 06:00 UTC"
    assert zone_name("Europe/Helsinki") == "EET (Europe/Helsinki)"


def test_the_tower_order_page_names_the_hubs_zone(browser, order_id):
    html = browser.get(f"/tower/orders/{order_id}/").content.decode()

    assert "Times in EET (Europe/Helsinki)" in html
    assert HELSINKI_WINDOW in html
