import datetime as dt

import pytest

from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


def _window(day: dt.date, start_hour: int):
    return [
        {
            "start": f"{day}T{start_hour:02d}:00:00+02:00",
            "end": f"{day}T{start_hour + 2:02d}:00:00+02:00",
        }
    ]


@pytest.fixture
def orders(merchant_client, hub):
    day = dt.date(2026, 12, 1)
    rows = [
        order_payload("A-1", time_windows=_window(day, 8), customer={"name": "Aino Virtanen"}),
        order_payload("A-2", time_windows=_window(day, 14), customer={"name": "Eero Laine"}),
        order_payload(
            "B-1",
            time_windows=_window(day + dt.timedelta(days=1), 10),
            customer={"name": "Liisa Koski"},
        ),
    ]
    results = merchant_client.post("/api/orders/bulk", {"orders": rows}, format="json").json()["results"]
    merchant_client.post(f"/api/orders/{results[0]['order']['id']}/cancel", {}, format="json")


def refs(response):
    assert response.status_code == 200, response.json()
    return sorted(o["merchant_reference"] for o in response.json()["results"])


def test_filter_by_date(merchant_client, orders):
    assert refs(merchant_client.get("/api/orders?date=2026-12-01")) == ["A-1", "A-2"]


def test_filter_by_window_overlap(merchant_client, orders):
    response = merchant_client.get(
        "/api/orders",
        {"window_from": "2026-12-01T13:00:00+02:00", "window_to": "2026-12-01T15:00:00+02:00"},
    )

    assert refs(response) == ["A-2"]


def test_filter_by_status_and_hub(merchant_client, orders):
    assert refs(merchant_client.get("/api/orders?status=validated&hub=hel-1")) == ["A-2", "B-1"]
    assert refs(merchant_client.get("/api/orders?status=cancelled&status=validated")) == [
        "A-1",
        "A-2",
        "B-1",
    ]
    assert refs(merchant_client.get("/api/orders?hub=elsewhere")) == []


def test_text_search(merchant_client, orders):
    assert refs(merchant_client.get("/api/orders?q=laine")) == ["A-2"]


def test_bad_filter_value_is_a_400(merchant_client, orders):
    response = merchant_client.get("/api/orders?date=tomorrow")

    assert response.status_code == 400
    assert response.json()["errors"] == {"date": ["Enter a valid date."]}


def test_cursor_pagination_walks_every_order_once(merchant_client, hub):
    merchant_client.post(
        "/api/orders/bulk",
        {"orders": [order_payload(f"P-{i:02d}") for i in range(25)]},
        format="json",
    )

    seen, url = [], "/api/orders?page_size=10"
    while url:
        page = merchant_client.get(url).json()
        seen += [o["merchant_reference"] for o in page["results"]]
        url = page["next"]

    assert seen == [f"P-{i:02d}" for i in reversed(range(25))]
