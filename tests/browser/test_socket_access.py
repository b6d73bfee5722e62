"""The control tower in Chromium when its user's access ends while the page is open.

Deactivated: the page goes to the login form. Moved to a role that may not watch the tower: the
page says its access changed and stops (no reconnect loop against a server that would refuse it).
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def open_tower(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page.goto(f"{base}/tower/")
    expect(page.get_by_test_id("connection")).to_have_text("live")


def update_user(user, **fields) -> None:
    """Saved on another thread, as by an admin elsewhere: Playwright's event loop owns this one."""

    def save():
        try:
            for name, value in fields.items():
                setattr(user, name, value)
            user.save()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(save).result()


def test_a_deactivated_viewer_s_tower_goes_to_the_login_page(asgi_server, page: Page, viewer_user):
    open_tower(page, asgi_server, viewer_user)

    update_user(viewer_user, is_active=False)

    expect(page).to_have_url(re.compile(r"/login/\?next=%2Ftower%2F$"))


def test_a_viewer_made_driver_sees_that_the_tower_s_access_changed(asgi_server, page: Page, viewer_user):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_tower(page, asgi_server, viewer_user)

    update_user(viewer_user, role="driver")

    expect(page.get_by_test_id("access-changed")).to_contain_text("Your access changed")
    expect(page.get_by_test_id("connection")).to_have_text("closed")
    assert page.url == f"{asgi_server}/tower/"
    assert errors == []
