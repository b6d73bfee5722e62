from tests.clock import day


def order_payload(reference="SO-1", **overrides) -> dict:
    """A valid order body (coordinates near the `hub` fixture, a window tomorrow at 10–12)."""
    tomorrow = day(1)
    payload = {
        "merchant_reference": reference,
        "hub": "hel-1",
        "customer": {"name": "Aino Virtanen", "phone": "+358401234567", "email": "aino@example.fi"},
        "address": {
            "text": "Aleksanterinkatu 52",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "FI",
            "lat": 60.1688,
            "lng": 24.9440,
        },
        "time_windows": [{"start": f"{tomorrow}T10:00:00+02:00", "end": f"{tomorrow}T12:00:00+02:00"}],
        "service_minutes": 4,
        "load": {"kg": 2.5, "m3": 0.01, "parcels": 1},
    }
    payload.update(overrides)
    return payload


def order_rows(count: int, prefix: str = "BULK") -> list[dict]:
    return [order_payload(f"{prefix}-{index:05d}") for index in range(count)]
