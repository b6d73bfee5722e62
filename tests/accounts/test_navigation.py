"""Every role sees only the pages it may open: each navigation link answers 200, every other page 403."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.navigation import PAGES
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db

NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="([^"]+)"')
# The page each role lands on: drivers are sent from `/` to their routes.
LANDING = {Role.ADMIN: "/", Role.DISPATCHER: "/", Role.VIEWER: "/", Role.DRIVER: "/driver/"}
USERS = {
    Role.ADMIN: "admin_user",
    Role.DISPATCHER: "dispatcher_user",
    Role.VIEWER: "viewer_user",
    Role.DRIVER: "driver_user",
}


def _browser(request, role) -> Client:
    client = Client()
    client.force_login(request.getfixturevalue(USERS[role]))
    return client


def _nav_links(html: str) -> list[str]:
    return HREF.findall(NAV.search(html).group(1))


@pytest.mark.parametrize("role", list(USERS))
def test_every_navigation_link_opens_for_the_role(request, hub, role):
    browser = _browser(request, role)

    landing = browser.get(LANDING[role])
    links = _nav_links(landing.content.decode())

    assert landing.status_code == 200
    assert links == [reverse(page.url_name) for page in PAGES if role in page.roles]
    assert {link: browser.get(link).status_code for link in links} == dict.fromkeys(links, 200)


@pytest.mark.parametrize("role", list(USERS))
def test_pages_outside_the_roles_navigation_answer_403(request, hub, role):
    browser = _browser(request, role)
    closed = [reverse(page.url_name) for page in PAGES if role not in page.roles and page.url_name != "home"]

    statuses = {url: browser.get(url).status_code for url in closed}

    assert statuses == dict.fromkeys(closed, 403)


OFFICE_PAGES = ["Overview", "Orders", "Control tower", "Dispatch", "Forecast", "Messages"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, [*OFFICE_PAGES, "Import CSV", "API keys", "Webhooks", "API docs"]),
        (Role.DISPATCHER, [*OFFICE_PAGES, "Import CSV", "API docs"]),
        (Role.VIEWER, [*OFFICE_PAGES, "API docs"]),
        (Role.DRIVER, ["My route", "API docs"]),
    ],
)
def test_the_navigation_of_each_role(request, hub, role, expected):
    html = _browser(request, role).get(LANDING[role]).content.decode()

    labels = re.findall(r">([^<]+)</a>", NAV.search(html).group(1))

    assert labels == expected


def test_a_drivers_overview_redirects_to_their_routes_without_showing_orders(request, hub, merchant_client):
    merchant_client.post("/api/orders", order_payload("SO-SECRET"), format="json")
    browser = _browser(request, Role.DRIVER)

    response = browser.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/driver/"
    assert "SO-SECRET" not in browser.get("/", follow=True).content.decode()


def test_the_office_overview_still_lists_the_latest_orders(request, hub, merchant_client):
    merchant_client.post("/api/orders", order_payload("SO-OFFICE"), format="json")

    response = _browser(request, Role.VIEWER).get("/")

    assert response.status_code == 200
    assert "SO-OFFICE" in response.content.decode()


def test_the_current_page_is_marked_by_its_longest_link(request, hub):
    html = _browser(request, Role.DISPATCHER).get("/dispatch/forecast/").content.decode()

    assert re.findall(r'<a href="([^"]+)" aria-current="page">', NAV.search(html).group(1)) == ["/dispatch/forecast/"]
