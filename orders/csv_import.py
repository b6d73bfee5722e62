"""CSV order files: columns to the JSON row shape of the API, and the per-row error report."""

import csv
import io

from common import csv_export

COLUMNS = [
    "merchant_reference",
    "type",
    "hub",
    "customer_name",
    "customer_phone",
    "customer_email",
    "address",
    "postcode",
    "city",
    "country",
    "lat",
    "lng",
    "window_start",
    "window_end",
    "window2_start",
    "window2_end",
    "service_minutes",
    "load_kg",
    "load_m3",
    "load_parcels",
    "priority",
    "required_skills",
    "proof_of_delivery",
    "cash_on_delivery",
    "instructions",
    "language",
]
REQUIRED = ("merchant_reference", "customer_name", "address", "window_start", "window_end")
MAX_BYTES = 10 * 1024 * 1024


class CsvFileError(ValueError):
    pass


def _blank_to_none(value):
    return None if value is None or value.strip() == "" else value.strip()


def _split(value):
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def row_to_order(record: dict) -> dict:
    """One CSV record to the API's order shape; values stay strings for the serializer to check."""
    get = lambda name: _blank_to_none(record.get(name))  # noqa: E731
    windows = [{"start": get("window_start"), "end": get("window_end")}]
    if get("window2_start") or get("window2_end"):
        windows.append({"start": get("window2_start"), "end": get("window2_end")})
    row = {
        "merchant_reference": get("merchant_reference"),
        "customer": {
            "name": get("customer_name"),
            "phone": get("customer_phone") or "",
            "email": get("customer_email") or "",
        },
        "address": {
            "text": get("address"),
            "postcode": get("postcode") or "",
            "city": get("city") or "",
            "country": get("country") or "",
            "lat": get("lat"),
            "lng": get("lng"),
        },
        "time_windows": windows,
        "load": {key: get(f"load_{key}") for key in ("kg", "m3", "parcels") if get(f"load_{key}")},
        "required_skills": _split(record.get("required_skills")),
        "proof_of_delivery": _split(record.get("proof_of_delivery")),
        "instructions": get("instructions") or "",
    }
    for name in ("type", "hub", "service_minutes", "priority", "cash_on_delivery", "language"):
        if get(name) is not None:
            row[name] = get(name)
    return row


def parse_orders_csv(raw: bytes) -> list[dict]:
    if len(raw) > MAX_BYTES:
        raise CsvFileError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError("The file is not UTF-8 text.") from error
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise CsvFileError(f"Missing column(s): {', '.join(missing)}. Expected columns: {', '.join(COLUMNS)}.")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise CsvFileError(f"Unknown column(s): {', '.join(unknown)}. Expected columns: {', '.join(COLUMNS)}.")
    reader.fieldnames = header
    rows = [row_to_order(record) for record in reader]
    if not rows:
        raise CsvFileError("The file has a header but no orders.")
    return rows


def error_report(results: list[dict]) -> str:
    """CSV with one line per field error: row (1 = first data line), reference, field, message."""
    out = io.StringIO()
    writer = csv_export.writer(out)
    writer.writerow(["row", "merchant_reference", "field", "message"])
    for result in results:
        if result["status"] != "error":
            continue
        for field, messages in result["errors"].items():
            for message in messages:
                writer.writerow([result["index"] + 1, result.get("merchant_reference") or "", field, message])
    return out.getvalue()
