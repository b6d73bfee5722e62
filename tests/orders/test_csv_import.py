import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from orders.models import Order, OrderImport

pytestmark = pytest.mark.django_db

HEADER = (
    "merchant_reference,customer_name,address,postcode,city,lat,lng,window_start,window_end,load_kg,proof_of_delivery\n"
)


def csv_file(lines: list[str], name="orders.csv"):
    return SimpleUploadedFile(name, (HEADER + "\n".join(lines) + "\n").encode(), content_type="text/csv")


WINDOW = "2026-12-01T10:00:00+02:00,2026-12-01T12:00:00+02:00"
GOOD = f"CSV-1,Aino,Aleksanterinkatu 52,00100,Helsinki,60.1688,24.944,{WINDOW},2,signature;photo"
BAD_WINDOW = "CSV-2,Eero,Bulevardi 1,00120,Helsinki,60.165,24.94,2026-12-01T12:00:00+02:00,2026-12-01T10:00:00+02:00,1,"
BAD_LOAD = "CSV-3,Liisa,Bulevardi 2,00120,Helsinki,60.165,24.94,2026-12-01T10:00:00+02:00,2026-12-01T12:00:00+02:00,-4,"


def test_csv_import_creates_good_rows_and_reports_bad_ones(merchant_client, hub):
    response = merchant_client.post(
        "/api/orders/import", {"file": csv_file([GOOD, BAD_WINDOW, BAD_LOAD])}, format="multipart"
    )

    assert response.status_code == 207
    body = response.json()
    assert body["summary"] == {"total": 3, "created": 1, "failed": 2}
    order = Order.objects.get()
    assert (order.merchant_reference, order.proof_of_delivery, order.load_kg) == (
        "CSV-1",
        ["photo", "signature"],
        2.0,
    )
    report = merchant_client.get(body["error_report_url"])
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert rows == [
        ["row", "merchant_reference", "field", "message"],
        ["2", "CSV-2", "time_windows[0].end", "The window must end after it starts."],
        ["3", "CSV-3", "load.kg", "Ensure this value is greater than or equal to 0."],
    ]


def test_csv_with_missing_columns_is_refused_whole(merchant_client, hub):
    upload = SimpleUploadedFile("o.csv", b"merchant_reference,customer_name\nX,Y\n", content_type="text/csv")

    response = merchant_client.post("/api/orders/import", {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"]["file"][0].startswith("Missing column(s): address, window_start, window_end.")
    assert OrderImport.objects.count() == 0


def test_non_utf8_file_is_refused(merchant_client, hub):
    upload = SimpleUploadedFile("o.csv", HEADER.encode() + "Ä".encode("latin-1"), content_type="text/csv")

    response = merchant_client.post("/api/orders/import", {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["The file is not UTF-8 text."]}


def test_reimporting_the_same_file_with_the_same_key_replays(merchant_client, hub):
    first = merchant_client.post(
        "/api/orders/import",
        {"file": csv_file([GOOD])},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="csv-1",
    )

    again = merchant_client.post(
        "/api/orders/import",
        {"file": csv_file([GOOD])},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="csv-1",
    )

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert OrderImport.objects.count() == 1


def test_import_page_shows_the_result_and_offers_the_report(client, dispatcher_user, hub):
    client.force_login(dispatcher_user)

    response = client.post("/orders/import/", {"file": csv_file([GOOD, BAD_WINDOW])})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>1</strong> created, <strong>1</strong> failed" in page
    record = OrderImport.objects.get()
    assert f"/orders/imports/{record.pk}/errors.csv" in page
    report = client.get(f"/orders/imports/{record.pk}/errors.csv")
    assert "CSV-2,time_windows[0].end,The window must end after it starts." in report.content.decode()


def test_viewer_cannot_import(client, viewer_user, hub):
    client.force_login(viewer_user)

    response = client.post("/orders/import/", {"file": csv_file([GOOD])})

    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_a_language_column_sets_each_customers_language_and_an_unknown_one_is_reported(merchant_client, hub):
    header = "merchant_reference,customer_name,address,lat,lng,window_start,window_end,language\n"
    lines = [
        f"CSV-FI,Aino,Aleksanterinkatu 52,60.1688,24.944,{WINDOW},fi",
        f"CSV-X,Eero,Bulevardi 1,60.165,24.94,{WINDOW},de",
    ]
    upload = SimpleUploadedFile("o.csv", (header + "\n".join(lines) + "\n").encode(), content_type="text/csv")

    response = merchant_client.post("/api/orders/import", {"file": upload}, format="multipart")

    assert response.status_code == 207
    assert response.json()["results"][1]["errors"] == {
        "language": ["Unknown language 'de': use one of en, fi, or leave it blank for the organisation's language."]
    }
    assert list(Order.objects.values_list("merchant_reference", "language")) == [("CSV-FI", "fi")]
