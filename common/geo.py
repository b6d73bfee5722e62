"""Small geometry facts needed outside the routing engine (service areas, validation)."""

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def point_in_polygon(lat: float, lng: float, polygon: list[list[float]]) -> bool:
    """Ray casting on [[lat, lng], ...]; fine for city-sized areas away from the poles."""
    inside = False
    count = len(polygon)
    for index in range(count):
        lat_a, lng_a = polygon[index]
        lat_b, lng_b = polygon[(index + 1) % count]
        if (lng_a > lng) != (lng_b > lng):
            crossing = lat_a + (lng - lng_a) * (lat_b - lat_a) / (lng_b - lng_a)
            if lat < crossing:
                inside = not inside
    return inside


def valid_coordinates(lat, lng) -> bool:
    return lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180
