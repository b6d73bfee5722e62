"""Offline great-circle travel model and the OSRM table provider (against a local server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from routing import GreatCircleProvider, OsrmTableProvider, retime, time_dependent_travel

PARIS, LONDON = (48.8566, 2.3522), (51.5074, -0.1278)


def test_great_circle_distance_and_speed():
    """Paris–London is 343.5 km as the crow flies; by car at 30 km/h with 1.3 circuity."""
    provider = GreatCircleProvider()

    seconds, metres = provider.matrices([PARIS, LONDON], "car")

    assert metres.dtype == np.int32
    assert metres[0, 1] == pytest.approx(343_500 * 1.3, rel=0.002)
    assert seconds[0, 1] == pytest.approx(metres[0, 1] / (30 / 3.6), abs=1)
    assert seconds[0, 0] == metres[1, 1] == 0


def test_matrices_are_cached_per_location_set_and_profile():
    provider = GreatCircleProvider()

    first = provider.matrices([PARIS, LONDON], "bike")

    assert provider.matrices([PARIS, LONDON], "bike") is first
    assert provider.matrices([PARIS, LONDON], "car") is not first


def test_rush_hour_slows_a_leg_down_mid_way():
    """A 1 h leg at free speed leaving 06:30 runs half an hour at 1.0, then at 0.75."""
    seconds = time_dependent_travel(3600, 6.5 * 3600)

    assert seconds == pytest.approx(1800 + 1800 / 0.75)


class _Osrm(BaseHTTPRequestHandler):
    """Speaks OSRM's table format: durations = 10 s per index step, one unroutable pair."""

    def do_GET(self):  # http.server names its handlers in upper case
        url = urlsplit(self.path)
        coords = url.path.split("/")[-1].split(";")
        query = parse_qs(url.query)
        sources = [int(x) for x in query["sources"][0].split(";")]
        targets = [int(x) for x in query["destinations"][0].split(";")]
        lngs = [float(c.split(",")[0]) for c in coords]
        rank = {lng: k for k, lng in enumerate(sorted(set(lngs)))}

        def cell(i, j, scale):
            a, b = rank[lngs[i]], rank[lngs[j]]
            return None if {a, b} == {0, 2} else abs(a - b) * scale

        body = {
            "code": "Ok",
            "durations": [[cell(i, j, 10) for j in targets] for i in sources],
            "distances": [[cell(i, j, 100) for j in targets] for i in sources],
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm_url():
    server = HTTPServer(("127.0.0.1", 0), _Osrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_osrm_table_in_chunks_with_fallback_for_unroutable_cells(osrm_url):
    points = [(45.0, 4.0), (45.0, 4.01), (45.0, 4.02)]
    fallback = GreatCircleProvider()
    provider = OsrmTableProvider(osrm_url, chunk=2, fallback=fallback)

    seconds, metres = provider.matrices(points, "car")

    estimate_s, estimate_m = fallback.matrices(points, "car")
    assert seconds.tolist() == [[0, 10, estimate_s[0, 2]], [10, 0, 10], [estimate_s[2, 0], 10, 0]]
    assert metres[0, 1] == 100
    assert metres[0, 2] == estimate_m[0, 2]


def test_retime_follows_the_hourly_profile():
    """Two 30-min free-flow legs from 06:30: the second runs at 07:00's 0.75 speed."""
    arrivals = retime(6 * 3600 + 1800, [1800, 1800], [0, 0], [0, 0])

    assert arrivals == [7 * 3600, 7 * 3600 + 2400]
