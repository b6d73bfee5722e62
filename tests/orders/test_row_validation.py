"""Bulk rows take a fast path through validation that answers exactly as OrderWriteSerializer."""

import copy

import pytest
from rest_framework.exceptions import ValidationError

from common.validation import fast_validator
from orders.csv_import import parse_orders_csv
from orders.serializers import OrderWriteSerializer
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db

MISSING = object()
TEXT = ["x", "", "   ", " padded ", "x" * 100, "x" * 101, 5, 5.5, True, None, [], {}, "a\x00b", "\ud800", "Mäkinen"]
NUMBERS = [0, 1, 2.5, -1, "2.5", "3", True, None, [], 1e308, 10**400, 90, 90.0001, -180, "nan", 3.0]
DATETIMES = [
    "2026-12-01T10:00:00+02:00",
    "2026-12-01T10:00:00Z",
    "2026-12-01T10:00:00.123456-03:30",
    "2026-12-01T10:00:00",
    "2026-12-01",
    "2026-13-01T10:00:00+02:00",
    "20261201T100000+0200",
    "tomorrow",
    1764576000,
    None,
]
LISTS = [[], ["refrigerated"], ["Refrigerated"], [" refrigerated "], ["a", "a"], ["x"] * 21, "refrigerated", None]
PROOFS = [[], ["signature"], ["photo", "signature", "photo"], ["selfie"], ["signature"] * 4, "signature", [None]]
# Every path of a row, with values of the kinds DRF coerces, trims, refuses or passes as they are.
CASES = {
    ("merchant_reference",): TEXT,
    ("type",): ["delivery", "pickup", "DELIVERY", "", None, 1],
    ("hub",): ["hel-1", " hel-1 ", "nope", "", None, 5],
    ("customer",): [None, "x", [], {}, {"name": "Aino"}, {"name": "Aino", "extra": 1}],
    ("customer", "name"): TEXT,
    ("customer", "phone"): ["", " +358 ", "+358401234567", None, 358],
    ("customer", "email"): ["", "aino@example.fi", " aino@example.fi ", "not-an-email", "ä@example.fi", None],
    ("address",): [None, "x", {}, {"text": "Mannerheimintie 5"}],
    ("address", "text"): TEXT,
    ("address", "country"): ["FI", "fi", " fi ", "FIN", "", None, 1],
    ("address", "lat"): NUMBERS,
    ("address", "lng"): NUMBERS,
    ("time_windows",): [[], None, "x", [{}], [None], [{"start": "2026-12-01T10:00:00+02:00"}] * 6],
    ("time_windows", 0): [None, "x", {"start": "2026-12-01T10:00:00+02:00"}],
    ("time_windows", 0, "start"): DATETIMES,
    ("time_windows", 0, "end"): DATETIMES,
    ("service_minutes",): NUMBERS,
    ("load",): [None, {}, {"kg": 1}, "x"],
    ("load", "kg"): NUMBERS,
    ("load", "parcels"): NUMBERS,
    ("priority",): NUMBERS,
    ("required_skills",): LISTS,
    ("proof_of_delivery",): PROOFS,
    ("cash_on_delivery",): [None, "12.50", 12.5, "12.505", -1, "x"],
    ("instructions",): TEXT,
}
ROWS = [
    "not an object",
    None,
    [],
    {},
    {"merchant_reference": 5},
    {
        **order_payload("TWO-WINDOWS"),
        "time_windows": [
            {"start": "2026-12-01T14:00:00+02:00", "end": "2026-12-01T16:00:00+02:00"},
            {"start": "2026-12-01T10:00:00+02:00", "end": "2026-12-01T12:00:00+02:00"},
        ],
    },
    {
        **order_payload("OVERLAPPING"),
        "time_windows": [
            {"start": "2026-12-01T10:00:00+02:00", "end": "2026-12-01T12:00:00+02:00"},
            {"start": "2026-12-01T11:00:00+02:00", "end": "2026-12-01T13:00:00+02:00"},
        ],
    },
    {
        **order_payload("EMPTY-WINDOW"),
        "time_windows": [
            {"start": "2026-12-01T10:00:00+02:00", "end": "2026-12-01T10:00:00+02:00"},
        ],
    },
]


def _varied(path: tuple, value) -> dict:
    row = order_payload("SO-1")
    *parents, last = path
    target = row
    for key in parents:
        target = target[key]
    if value is MISSING:
        target.pop(last, None) if isinstance(target, dict) else target.pop(last)
    else:
        target[last] = value
    return row


def _rows():
    for path, values in CASES.items():
        for value in [*values, MISSING]:
            yield f"{path}={value!r}"[:80], _varied(path, value)
    for row in ROWS:
        yield repr(row)[:80], row


def _drf(serializer, row):
    try:
        return serializer.run_validation(row)
    except ValidationError as error:
        return error


def test_the_fast_path_answers_as_drf_or_leaves_the_row_to_it(hub):
    serializer = OrderWriteSerializer(context={"hubs": {hub.code: hub}})
    fast = fast_validator(serializer)
    answered, disagreements = 0, []

    for label, row in _rows():
        quick, full = fast(copy.deepcopy(row)), _drf(serializer, copy.deepcopy(row))
        if quick is not None:
            answered += 1
            # repr tells apart what == would not: time zones, Decimal exponents, enum members.
            if repr(quick) != repr(full):
                disagreements.append((label, quick, full))

    assert disagreements == []
    # Numbers in text fields (5 and 5.5 in four of them, 358 as a phone) are refused since
    # common/strict_text.py, so those nine rows go to DRF for their messages.
    assert answered == 118


def test_the_common_row_shapes_take_the_fast_path(hub):
    serializer = OrderWriteSerializer(context={"hubs": {hub.code: hub}})
    fast = fast_validator(serializer)
    rows = [
        order_payload("PLAIN"),
        order_payload("NO-HUB", hub=None),
        order_payload("GEOCODE", address={"text": "Mannerheimintie 5", "postcode": "00100", "city": "Helsinki"}),
        order_payload(
            "FULL",
            type="pickup",
            priority=5,
            cash_on_delivery="12.50",
            instructions="Ring",
            required_skills=["refrigerated"],
            proof_of_delivery=["signature"],
        ),
        {
            "merchant_reference": "MINIMAL",
            "customer": {"name": "A"},
            "address": {"text": "B"},
            "time_windows": [{"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T11:00:00Z"}],
        },
    ]

    rows += parse_orders_csv(
        b"merchant_reference,customer_name,address,lat,lng,window_start,window_end,load_kg,priority\n"
        b"CSV-1,Aino,Aleksanterinkatu 52,60.1688,24.944,2026-12-01T10:00:00+02:00,2026-12-01T12:00:00+02:00,2,3\n"
    )

    answers = [fast(row) for row in rows]

    assert [answer is not None for answer in answers] == [True] * 6
    assert [repr(answer) for answer in answers] == [repr(serializer.run_validation(row)) for row in rows]
