import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from orders.gazetteer import gazetteer_load
from orders.geocoding import (
    AddressQuery,
    GeocodeResult,
    ParsedAddress,
    geocode,
    geocode_batch,
    nominatim_confidence,
    parse_address,
)

POINTS = [
    ("Hämeentie", "1", "00530", "Helsinki", 60.1870, 24.9600),
    ("Hämeentie", "3", "00530", "Helsinki", 60.1874, 24.9604),
    ("Hämeentie", "5", "00530", "Helsinki", 60.1878, 24.9608),
    ("Aleksanterinkatu", "52", "00100", "Helsinki", 60.1683063, 24.9424747),
    ("Mannerheimintie", "5", "00100", "Helsinki", 60.1694365, 24.9400232),
    ("Main Street", "5", "", "Helsinki", 60.1600, 24.9300),
    ("Bulevardi", "2-4", "00120", "Helsinki", 60.1661734, 24.942749),
    # The same street name in two cities: without a city the address is ambiguous.
    ("Koulukatu", "1", "00100", "Helsinki", 60.1700, 24.9500),
    ("Koulukatu", "1", "33200", "Tampere", 61.4950, 23.7600),
]


@pytest.fixture
def gazetteer(db):
    points = [
        {"street": street, "housenumber": number, "postcode": postcode, "city": city, "lat": lat, "lng": lng}
        for street, number, postcode, city, lat, lng in POINTS
    ]
    gazetteer_load(points, source="osm:test", country="FI")


HAMEENTIE_1 = (60.187, 24.96)
ALEKSANTERINKATU_52 = (60.1683063, 24.9424747)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            AddressQuery("Aleksanterinkatu 52", postcode="00100", city="Helsinki"),
            (*ALEKSANTERINKATU_52, 0.95, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="exact-with-postcode",
        ),
        pytest.param(
            AddressQuery("Aleksanterinkatu 52, 00100 Helsinki"),
            (*ALEKSANTERINKATU_52, 0.95, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="postcode-and-city-inside-the-text",
        ),
        pytest.param(
            AddressQuery("Aleksanterinkatu 52", city="Helsingfors"),
            (*ALEKSANTERINKATU_52, 0.9, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="exact-with-city-alternate-name",
        ),
        pytest.param(
            AddressQuery("Aleksanterinkatu 52"),
            (*ALEKSANTERINKATU_52, 0.85, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="exact-without-postcode",
        ),
        pytest.param(
            AddressQuery("Aleksanterinkatu 52", postcode="00990"),
            (*ALEKSANTERINKATU_52, 0.75, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="exact-with-a-wrong-postcode",
        ),
        pytest.param(
            AddressQuery("Mannerheimintie 5 A 12"),
            (60.1694365, 24.9400232, 0.85, "gazetteer", "Mannerheimintie 5, 00100 Helsinki"),
            id="staircase-and-apartment",
        ),
        pytest.param(
            AddressQuery("Aleksanterinkatu 52b"),
            (*ALEKSANTERINKATU_52, 0.75, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="house-letter-falls-back-to-the-number",
        ),
        pytest.param(
            AddressQuery("Aleksanterinkatu 52 00100 Helsinki"),
            (*ALEKSANTERINKATU_52, 0.95, "gazetteer", "Aleksanterinkatu 52, 00100 Helsinki"),
            id="postcode-and-city-without-commas",
        ),
        pytest.param(
            AddressQuery("c/o Firma Oy, Mannerheimintie 5 B, 00100 Helsinki, Finland"),
            (60.1694365, 24.9400232, 0.85, "gazetteer", "Mannerheimintie 5, 00100 Helsinki"),
            id="recipient-line-and-country",
        ),
        pytest.param(
            AddressQuery("Mannerheimintie 5 A 12 Helsinki"),
            (60.1694365, 24.9400232, 0.9, "gazetteer", "Mannerheimintie 5, 00100 Helsinki"),
            id="city-after-the-apartment",
        ),
        pytest.param(
            AddressQuery("Bulevardi 2–4"),
            (60.1661734, 24.942749, 0.85, "gazetteer", "Bulevardi 2-4, 00120 Helsinki"),
            id="housenumber-range",
        ),
        pytest.param(
            AddressQuery("Bulevardi 3"),
            (60.1661734, 24.942749, 0.75, "gazetteer", "Bulevardi 2-4, 00120 Helsinki"),
            id="number-inside-a-range",
        ),
        pytest.param(
            AddressQuery("5 Main St."),
            (60.16, 24.93, 0.85, "gazetteer", "Main Street 5, Helsinki"),
            id="number-first-english-abbreviation",
        ),
        pytest.param(
            AddressQuery("Hämeentie 99", city="Helsinki"),
            (60.1874, 24.9604, 0.7, "gazetteer", "Hämeentie (street centre), Helsinki"),
            id="street-only",
        ),
        pytest.param(
            AddressQuery("Koulukatu 1"),
            (60.17, 24.95, 0.5, "gazetteer", "Koulukatu 1, 00100 Helsinki"),
            id="ambiguous-across-cities",
        ),
        pytest.param(
            AddressQuery("Koulukatu 1", city="Tampere"),
            (61.495, 23.76, 0.9, "gazetteer", "Koulukatu 1, 33200 Tampere"),
            id="city-resolves-the-ambiguity",
        ),
        pytest.param(
            AddressQuery("Mannerheimintie 5", city="Tampere", country="FI"),
            (61.49911, 23.78712, 0.3, "place", "Tampere, FI (city centre)"),
            id="street-known-only-in-another-city",
        ),
        pytest.param(
            AddressQuery("Tuntematon katu 999", city="Espoo"),
            (60.2052, 24.6522, 0.3, "place", "Espoo, FI (city centre)"),
            id="city-only",
        ),
        pytest.param(
            AddressQuery("Tampere"),
            (61.49911, 23.78712, 0.3, "place", "Tampere, FI (city centre)"),
            id="text-is-a-city",
        ),
    ],
)
def test_geocode_confidence_levels(gazetteer, query, expected):
    result = geocode(query)

    lat, lng, confidence, source, matched = expected
    assert result == GeocodeResult(pytest.approx(lat), pytest.approx(lng), confidence, source, matched)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(AddressQuery("Tuntematon katu 999"), id="unknown-street-no-city"),
        pytest.param(AddressQuery("Tuntematon katu 999", city="Atlantis", country="FI"), id="city-not-in-country"),
        pytest.param(AddressQuery(""), id="empty"),
    ],
)
def test_geocode_returns_none_when_nothing_matches(gazetteer, query):
    assert geocode(query) is None


def test_parse_address_reads_postcode_city_and_country_from_the_text():
    parsed = parse_address(AddressQuery("Hauptstr. 7, 10115 Berlin, Deutschland"))

    assert parsed == ParsedAddress("hauptstrasse", ("7",), "10115", "Berlin", "DE", ("Berlin",))


@pytest.mark.parametrize("text", ["Hämeentie 1", "Hameentie 1", "HÄMEENTIE 1", "  hämeentie   1 "])
def test_accents_and_case_are_folded(gazetteer, text):
    """Merchants type "Hameentie"; the gazetteer has "Hämeentie" (folded the same way when loaded)."""
    result = geocode(AddressQuery(text, postcode="00530"))

    assert (result.lat, result.lng, result.confidence) == (*HAMEENTIE_1, 0.95)


def test_batch_uses_a_bounded_number_of_queries(gazetteer, django_assert_num_queries):
    """200 addresses cost one database query, not one per row."""
    texts = ["Hämeentie 1", "Hämeentie 3, 00530 Helsinki", "Aleksanterinkatu 52", "Tuntematon 4", "Espoo"]
    queries = [AddressQuery(texts[index % len(texts)]) for index in range(200)]
    queries += [AddressQuery(f"Street {index} 1") for index in range(200)]

    with django_assert_num_queries(1):
        results = geocode_batch(queries)

    assert len(results) == 400
    assert [result.confidence if result else None for result in results[:5]] == [0.85, 0.95, 0.85, None, 0.3]
    assert results[200:] == [None] * 200


# --- Nominatim --------------------------------------------------------------------------------


class _NominatimHandler(BaseHTTPRequestHandler):
    """Answers /search like Nominatim's format=json; "Nowhere" finds nothing."""

    def do_GET(self):
        params = parse_qs(urlsplit(self.path).query)
        self.server.requests.append((urlsplit(self.path).path, params))
        body = []
        if "Nowhere" not in params["q"][0]:
            body = [
                {
                    "place_id": 1,
                    "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
                    "osm_type": "node",
                    "osm_id": 42,
                    "lat": "60.1700000",
                    "lon": "24.9500000",
                    "class": "place",
                    "type": "house",
                    "place_rank": 30,
                    "importance": 0.2,
                    "addresstype": "place",
                    "display_name": "52, Aleksanterinkatu, Kluuvi, Helsinki, 00100, Suomi / Finland",
                    "boundingbox": ["60.1699", "60.1701", "24.9499", "24.9501"],
                }
            ]
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def nominatim_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NominatimHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_nominatim_is_asked_first(gazetteer, settings, nominatim_server):
    """A configured Nominatim answers over HTTP; what it cannot find falls back to the gazetteer."""
    settings.GEOCODER = "nominatim"
    settings.GEOCODER_URL = f"http://127.0.0.1:{nominatim_server.server_port}/"

    results = geocode_batch(
        [
            AddressQuery("Aleksanterinkatu 52", postcode="00100", city="Helsinki", country="FI"),
            AddressQuery("Hämeentie 1", city="Nowhere"),
        ]
    )

    assert results == [
        GeocodeResult(
            60.17, 24.95, 0.91, "nominatim", "52, Aleksanterinkatu, Kluuvi, Helsinki, 00100, Suomi / Finland"
        ),
        GeocodeResult(*HAMEENTIE_1, 0.85, "gazetteer", "Hämeentie 1, 00530 Helsinki"),
    ]
    assert [(path, params["q"], params.get("countrycodes")) for path, params in nominatim_server.requests] == [
        ("/search", ["Aleksanterinkatu 52, 00100 Helsinki"], ["fi"]),
        ("/search", ["Hämeentie 1, Nowhere"], None),
    ]


def test_nominatim_down_falls_back_to_offline(gazetteer, settings, caplog):
    """A refused connection is logged once and the whole batch is answered offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.GEOCODER = "nominatim"
    settings.GEOCODER_URL = f"http://127.0.0.1:{closed_port}"

    with caplog.at_level(logging.WARNING, logger="orders.geocoding"):
        results = geocode_batch([AddressQuery("Hämeentie 1", postcode="00530"), AddressQuery("Aleksanterinkatu 52")])

    assert [(result.source, result.confidence) for result in results] == [("gazetteer", 0.95), ("gazetteer", 0.85)]
    warnings = [record.getMessage() for record in caplog.records if record.name == "orders.geocoding"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Nominatim at http://127.0.0.1:{closed_port} failed")
    assert warnings[0].endswith("using the offline geocoder.")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param({"place_rank": 30, "importance": 0.0}, 0.9, id="house"),
        pytest.param({"place_rank": 26, "importance": 0.1}, 0.66, id="street"),
        pytest.param({"place_rank": 19, "importance": 0.0}, 0.35, id="suburb"),
        pytest.param({"place_rank": 16, "importance": 0.6}, 0.33, id="city"),
        pytest.param({"class": "building", "type": "yes"}, 0.9, id="building-without-rank"),
        pytest.param({"class": "highway", "type": "residential"}, 0.65, id="road-without-rank"),
        pytest.param(
            {"class": "amenity", "boundingbox": ["60.17", "60.1701", "24.95", "24.9501"]}, 0.9, id="small-box"
        ),
        pytest.param({"class": "boundary", "boundingbox": ["60.0", "60.3", "24.7", "25.2"]}, 0.3, id="large-box"),
    ],
)
def test_nominatim_confidence_follows_precision(raw, expected):
    assert nominatim_confidence(raw) == expected
