"""Drive a dispatched route: signs in as its driver and sends positions along the stops, through
the real path (the driver WebSocket `/ws/driver/`), so the control tower and the customers'
tracking pages move live. The demo of issue #5:

    make demo                                   # in one terminal (seeds drivers driver1, driver2, ...)
    .venv/bin/python -m bench.drive_route --username driver1 --password waypoint-driver1 --speedup 20

Open http://localhost:8000/tower/ (dispatcher / waypoint-dispatch) and, from the tower's order
drill-down, the customer tracking page of one of the route's orders to watch. Positions carry the real time; the
driver simply moves `--speedup` times faster than `--speed-kmh`. Loopback or your own server only.
"""

import argparse
import datetime as dt
import json
import math
import re
import sys
import time
import urllib.parse

import requests
from websockets.sync.client import connect

EARTH_M = 6_371_008.8


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
    headers = {"Cookie": f"sessionid={session.cookies['sessionid']}", "Origin": base}
    deadline = time.monotonic() + args.max_seconds
    with connect(url, additional_headers=headers) as socket:

        def send(point, moving: bool, bearing: float | None) -> dict:
            fix = {
                "type": "position",
                "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
                "lat": point[0],
                "lng": point[1],
                "accuracy_m": 8,
                "speed_mps": speed_mps if moving else 0.0,
                "heading_deg": bearing,
                "battery_pct": 80,
            }
            socket.send(json.dumps(fix))
            ack = json.loads(socket.recv(timeout=10))
            if ack.get("rejected"):
                print("  rejected:", ack["rejected"])
            time.sleep(args.interval)
            return ack

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
    print("Done.")


if __name__ == "__main__":
    main()
