"""Drive a dispatched route: signs in as its driver and sends positions along the stops, through
the real path (the driver WebSocket `/ws/driver/`), so the control tower and the customers'
tracking pages move live. The demo of issue #5:

    make demo                                   # in one terminal (seeds drivers driver1, driver2, ...)
    .venv/bin/python -m bench.drive_route --username driver1 --password waypoint-driver1 --speedup 20

Open http://localhost:8000/tower/ (dispatcher / waypoint-dispatch) and, from the tower's order
drill-down, the customer tracking page of one of the route's orders to watch. Positions carry the real time; the
driver simply moves `--speedup` times faster than `--speed-kmh`. Loopback or your own server only.

Like a phone, it survives a server restart: every position waits in a queue until the server
acknowledges it (the ack echoes the message's `ref`). When the socket drops, positions keep being
recorded into the queue while the script reconnects with exponential back-off (0.25 s doubling to
10 s, with jitter, so a fleet of phones does not reconnect in step), and every unacknowledged
position is sent again after the reconnect. Sending one twice is harmless: the server stores a
driver's fix once per instant and acknowledges the copy as a duplicate. A process started with
`WAYPOINT_CLOCK_START` (as the tests start servers) stamps positions on that clock too.
"""

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import sys
import time
import urllib.parse
from collections import OrderedDict

import requests
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

EARTH_M = 6_371_008.8
BACKOFF_FIRST_S = 0.25
BACKOFF_CAP_S = 10.0
# What a dropped or refused connection raises: the socket's own errors, a refused TCP connect, a timeout.
CONNECTION_ERRORS = (WebSocketException, OSError, TimeoutError)


def sign_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        sys.exit(f"No login form at {base}/login/")
    response = session.post(
        f"{base}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
        allow_redirects=False,
    )
    if response.status_code != 302 or "sessionid" not in session.cookies:
        sys.exit(f"Sign-in as {username} failed ({response.status_code}).")
    return session


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def heading_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    y = math.sin(math.radians(b[1] - a[1])) * math.cos(math.radians(b[0]))
    x = math.cos(math.radians(a[0])) * math.sin(math.radians(b[0])) - math.sin(math.radians(a[0])) * math.cos(
        math.radians(b[0])
    ) * math.cos(math.radians(b[1] - a[1]))
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def backoff_s(attempt: int) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0-based): doubling up to the cap, with jitter."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


def clock():
    """Now, on the `WAYPOINT_CLOCK_START` clock when one is given (it ticks on from that instant)."""
    start = os.environ.get("WAYPOINT_CLOCK_START")
    if not start:
        return lambda: dt.datetime.now(dt.UTC)
    origin, began = dt.datetime.fromisoformat(start), time.monotonic()
    return lambda: origin + dt.timedelta(seconds=time.monotonic() - began)


class Uplink:
    """The driver socket with a queue: positions wait until acknowledged, and are resent after a reconnect."""

    def __init__(self, url: str, headers: dict) -> None:
        self.url, self.headers = url, headers
        self.socket = None
        self.context = contextlib.ExitStack()
        self.pending: OrderedDict[str, dict] = OrderedDict()  # ref -> message, oldest first
        self.unsent: list[str] = []  # refs not yet sent on the current connection
        self.next_ref = 0
        self.attempt = 0
        self.retry_at = 0.0
        self.reconnects = 0
        self.counts = {"sent": 0, "accepted": 0, "duplicates": 0, "rejected": 0}

    def queue(self, message: dict) -> None:
        self.next_ref += 1
        ref = str(self.next_ref)
        self.pending[ref] = {**message, "ref": ref}
        self.unsent.append(ref)
        self.counts["sent"] += 1

    def pump(self, wait_s: float) -> None:
        """Connect if it is time to, send what is unsent, and read acks for up to `wait_s` seconds."""
        deadline = time.monotonic() + wait_s
        if self.socket is None and time.monotonic() >= self.retry_at:
            self._connect()
        if self.socket is None:
            time.sleep(max(0.0, deadline - time.monotonic()))
            return
        try:
            while self.unsent:
                self.socket.send(json.dumps(self.pending[self.unsent[0]]))
                self.unsent.pop(0)
            while self.pending and (remaining := deadline - time.monotonic()) > 0:
                try:
                    self._acknowledged(json.loads(self.socket.recv(timeout=remaining)))
                except TimeoutError:
                    break
            time.sleep(max(0.0, deadline - time.monotonic()))
        except CONNECTION_ERRORS as error:
            self._dropped(error)

    def _connect(self) -> None:
        try:
            # Entered as a context manager (websockets ≥ 17 warns otherwise); `close` exits it.
            self.socket = self.context.enter_context(connect(self.url, additional_headers=self.headers, open_timeout=5))
        except CONNECTION_ERRORS as error:
            wait = backoff_s(self.attempt)
            self.attempt += 1
            self.retry_at = time.monotonic() + wait
            print(f"  connection failed ({error.__class__.__name__}); retrying in {wait:.1f} s")
            return
        if self.attempt:
            self.reconnects += 1
            print(f"  reconnected; resending {len(self.pending)} unacknowledged positions")
        self.attempt = 0
        self.unsent = list(self.pending)  # the server may have stored some: it answers those as duplicates

    def _dropped(self, error: Exception) -> None:
        print(f"  connection lost ({error.__class__.__name__}); {len(self.pending)} positions wait for an ack")
        self.close()
        self.retry_at = time.monotonic() + backoff_s(self.attempt)
        self.attempt += 1

    def _acknowledged(self, answer: dict) -> None:
        if answer.get("type") != "ack" or self.pending.pop(answer.get("ref"), None) is None:
            return  # a pong, an error without a ref, or the ack of a copy already acknowledged
        self.counts["accepted"] += answer["accepted"]
        self.counts["duplicates"] += answer["duplicates"]
        self.counts["rejected"] += len(answer["rejected"])
        if answer["rejected"]:
            print("  rejected:", answer["rejected"])

    def close(self) -> None:
        with contextlib.suppress(*CONNECTION_ERRORS):
            self.context.close()
        self.socket = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://localhost:8000")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--date", help="the plan's day (default: today at the hub)")
    parser.add_argument("--speed-kmh", type=float, default=30.0)
    parser.add_argument("--speedup", type=float, default=10.0, help="move this many times faster than real")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between positions")
    parser.add_argument("--dwell", type=float, default=6.0, help="seconds spent at each stop")
    parser.add_argument("--start", help="lat,lng to start from (default: 1.5 km south of the first stop)")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    base = args.base_url.rstrip("/")

    session = sign_in(base, args.username, args.password)
    query = f"?date={args.date}" if args.date else ""
    routes = session.get(f"{base}/api/driver/routes{query}", timeout=10).json().get("routes", [])
    stops = [s for route in routes for s in route["stops"] if s["status"] != "done" and s["lat"] is not None]
    if not stops:
        sys.exit(f"{args.username} has no dispatched stops to drive on that day.")
    print(f"Driving route {routes[0]['id']} ({len(stops)} stops) as {args.username}:")
    for stop in stops:
        print(f"  {stop['sequence']:>3}  {stop['merchant_reference']:<14} {stop['address']}")
    here = tuple(map(float, args.start.split(","))) if args.start else (stops[0]["lat"] - 0.0135, stops[0]["lng"])
    speed_mps = args.speed_kmh / 3.6
    step_m = speed_mps * args.speedup * args.interval
    origin = urllib.parse.urlsplit(base)
    url = f"{'wss' if origin.scheme == 'https' else 'ws'}://{origin.netloc}/ws/driver/"
    uplink = Uplink(url, {"Cookie": f"sessionid={session.cookies['sessionid']}", "Origin": base})
    now = clock()
    deadline = time.monotonic() + args.max_seconds

    def send(point, moving: bool, bearing: float | None) -> None:
        uplink.queue(
            {
                "type": "position",
                "recorded_at": now().isoformat(),
                "lat": point[0],
                "lng": point[1],
                "accuracy_m": 8,
                "speed_mps": speed_mps if moving else 0.0,
                "heading_deg": bearing,
                "battery_pct": 80,
            }
        )
        uplink.pump(args.interval)

    for stop in stops:
        target = (stop["lat"], stop["lng"])
        while distance_m(here, target) > step_m and time.monotonic() < deadline:
            fraction = step_m / distance_m(here, target)
            bearing = heading_deg(here, target)
            here = (here[0] + (target[0] - here[0]) * fraction, here[1] + (target[1] - here[1]) * fraction)
            send(here, True, bearing)
        here = target
        print(f"  at {stop['merchant_reference']}")
        for _ in range(max(1, round(args.dwell / args.interval))):
            send(here, False, None)
        if time.monotonic() >= deadline:
            break
    while uplink.pending and time.monotonic() < deadline:  # the last positions still need their acks
        uplink.pump(args.interval)
    uplink.close()
    counts = uplink.counts
    print(
        f"Sent {counts['sent']} positions: {counts['accepted']} accepted, {counts['duplicates']} duplicates, "
        f"{counts['rejected']} rejected, {len(uplink.pending)} unacknowledged; {uplink.reconnects} reconnects."
    )
    if uplink.pending:
        sys.exit(1)
    print("Done.")


if __name__ == "__main__":
    main()
