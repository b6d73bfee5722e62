"""Address resolution and validation for orders: coordinates, confidence and service area.

Merchant coordinates always win. Otherwise the address is geocoded. An order whose address cannot
be trusted is still created, flagged with an `address_issue` (never dropped, never a 500).
"""

from dataclasses import dataclass

from django.conf import settings

from common.geo import haversine_m, valid_coordinates
from orders.models import AddressIssue, GeocodeSource


@dataclass
class ResolvedAddress:
    lat: float | None
    lng: float | None
    confidence: float | None
    source: str
    issue: str = AddressIssue.NONE
    issue_detail: str = ""
    hub: object | None = None


def _choose_hub(lat, lng, requested_hub, hubs):
    if requested_hub is not None:
        return requested_hub if requested_hub.covers(lat, lng) else None
    covering = [hub for hub in hubs if hub.covers(lat, lng)]
    return min(covering, key=lambda h: haversine_m(h.lat, h.lng, lat, lng), default=None)


def _validate(resolved: ResolvedAddress, requested_hub, hubs) -> ResolvedAddress:
    if resolved.lat is None:
        resolved.issue = AddressIssue.NOT_FOUND
        resolved.issue_detail = "The address could not be geocoded; send lat/lng or fix the address."
        resolved.hub = requested_hub
        return resolved
    if not valid_coordinates(resolved.lat, resolved.lng):
        resolved.issue = AddressIssue.INVALID_COORDINATES
        resolved.issue_detail = "Coordinates are out of range."
        resolved.hub = requested_hub
        return resolved
    minimum = settings.GEOCODER_MIN_CONFIDENCE
    if resolved.confidence is not None and resolved.confidence < minimum:
        resolved.issue = AddressIssue.LOW_CONFIDENCE
        resolved.issue_detail = (
            f"Geocode confidence {resolved.confidence:.2f} is below {minimum:.2f}; "
            "confirm the address or send coordinates."
        )
        resolved.hub = requested_hub
        return resolved
    resolved.hub = _choose_hub(resolved.lat, resolved.lng, requested_hub, hubs)
    if resolved.hub is None:
        where = f"hub '{requested_hub.code}'" if requested_hub else "any hub"
        resolved.issue = AddressIssue.OUTSIDE_SERVICE_AREA
        resolved.issue_detail = f"The address is outside the service area of {where}."
        resolved.hub = requested_hub
    return resolved


def _geocode(rows: list[dict], indexes: list[int]) -> list:
    if not indexes:
        return []
    from orders.geocoding import AddressQuery, geocode_batch

    queries = []
    for index in indexes:
        address = rows[index]["address"]
        queries.append(
            AddressQuery(
                address_text=address.get("text", ""),
                postcode=address.get("postcode", ""),
                city=address.get("city", ""),
                country=address.get("country", ""),
            )
        )
    return geocode_batch(queries)


def resolve_addresses(rows: list[dict], *, hubs: list) -> list[ResolvedAddress]:
    """Resolve each row's `address` dict (text, postcode, city, country, lat, lng) and `hub`."""
    results: list[ResolvedAddress | None] = [None] * len(rows)
    to_geocode: list[int] = []
    for index, row in enumerate(rows):
        address = row["address"]
        if address.get("lat") is not None and address.get("lng") is not None:
            results[index] = ResolvedAddress(address["lat"], address["lng"], 1.0, GeocodeSource.MERCHANT)
        else:
            to_geocode.append(index)
    for index, found in zip(to_geocode, _geocode(rows, to_geocode), strict=True):
        if found is None:
            results[index] = ResolvedAddress(None, None, None, GeocodeSource.NONE)
        else:
            results[index] = ResolvedAddress(found.lat, found.lng, found.confidence, found.source)
    return [_validate(resolved, row.get("hub"), hubs) for resolved, row in zip(results, rows, strict=True)]
