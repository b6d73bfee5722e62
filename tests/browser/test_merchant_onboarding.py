"""The first-day flow in a real browser: sign in, create an API key, use it, import a CSV."""

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from accounts.models import ApiKey
from orders.models import Order
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-12345!")
    page.get_by_role("button", name="Sign in").click()


def test_admin_creates_a_key_that_works_and_is_shown_once(page: Page, live_server, admin_user, hub):
    sign_in(page, live_server.url, admin_user.username)
    expect(page.get_by_role("heading", name="Acme Deliveries")).to_be_visible()

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Web shop")
    page.get_by_role("button", name="Create key").click()
    raw_key = page.get_by_test_id("new-key").inner_text().strip()
    response = requests.post(
        f"{live_server.url}/api/orders",
        json=order_payload("SO-WEB"),
        headers={"Authorization": f"Bearer {raw_key}"},
        timeout=10,
    )
    page.reload()

    assert response.status_code == 201, response.text
    assert Order.objects.get().merchant_reference == "SO-WEB"
    assert ApiKey.objects.count() == 1
    expect(page.get_by_test_id("new-key")).to_have_count(0)
    expect(page.locator("table")).to_contain_text("Web shop")


def test_dispatcher_imports_a_csv_and_sees_row_errors(page: Page, live_server, dispatcher_user, hub, tmp_path):
    csv_path = tmp_path / "orders.csv"
    window = "2026-12-01T10:00:00+02:00,2026-12-01T12:00:00+02:00"
    csv_path.write_text(
        "merchant_reference,customer_name,address,lat,lng,window_start,window_end,load_kg\n"
        f"CSV-1,Aino,Aleksanterinkatu 52,60.1688,24.944,{window},2\n"
        f"CSV-2,Eero,Bulevardi 1,60.165,24.94,{window},-3\n"
    )
    sign_in(page, live_server.url, dispatcher_user.username)

    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("File").set_input_files(str(csv_path))
    page.get_by_role("button", name="Import").click()

    result = page.get_by_test_id("import-result")
    expect(result).to_contain_text("1 created, 1 failed of 2 rows")
    expect(result).to_contain_text("load.kg: Ensure this value is greater than or equal to 0.")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error report").click()
    assert "CSV-2,load.kg" in download.value.path().read_text()
    assert list(Order.objects.values_list("merchant_reference", flat=True)) == ["CSV-1"]
