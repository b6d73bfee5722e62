"""Live tracking load test on the production shape: uvicorn, channels-redis, Postgres.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.tracking_load --drivers 200 --towers 5 --duration 60

N simulated drivers each send a position every `--interval` seconds through the real WebSocket
path (`/ws/driver/`: record, ETA refresh, publish) while M control tower clients (`/ws/tower/`)
listen. Reports sustained positions/s, latency from send to control-tower receipt (p50/p95/p99),
positions never seen by a tower (dropped), and the server's CPU and memory. It migrates the target
database, creates its own organization (drivers, a dispatched plan, three stops per route), starts
and stops its own server on a free loopback port. Loopback only; bounded in drivers and time.
Never point it at a database you care about: it adds rows.
"""

import argparse
import asyncio
import datetime as dt
import gc
import json
import math
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_DRIVERS = 5000
MAX_DURATION_S = 900
HUB = (60.1699, 24.9384)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(drivers: int, towers: int) -> dict:
    """A fresh organization: `drivers` drivers on today's dispatched plan, sessions for all sockets."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import Organization, User
    from dispatch.models import Driver, Hub, Plan, Route, Stop, Vehicle
    from orders.models import Order
    from tracking.selectors.tower import organization_today

    call_command("migrate", verbosity=0)
    slug = f"load-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    hub = Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Load hub",
        address="x",
        lat=HUB[0],
        lng=HUB[1],
        timezone="Europe/Helsinki",
    )
    day = organization_today(organization)
    users = User.objects.bulk_create(
        [User(username=f"{slug}-d{i}", organization=organization, role="driver", password="!") for i in range(drivers)]
        + [
            User(username=f"{slug}-ops{i}", organization=organization, role="dispatcher", password="!")
            for i in range(towers)
        ]
    )
    driver_rows = Driver.objects.bulk_create(
        [
            Driver(organization=organization, user=u, name=f"Driver {i}", home_hub=hub)
            for i, u in enumerate(users[:drivers])
        ]
    )
    vehicles = Vehicle.objects.bulk_create(
        [Vehicle(organization=organization, name=f"Van {i}", home_hub=hub) for i in range(drivers)]
    )
    plan = Plan.objects.create(organization=organization, hub=hub, date=day, status="dispatched")
    routes = Route.objects.bulk_create(
        [Route(plan=plan, vehicle=v, driver=d) for v, d in zip(vehicles, driver_rows, strict=True)]
    )
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=4)
    orders, targets = [], []
    for i in range(drivers):
        angle = 2 * math.pi * i / max(drivers, 1)
        for k in range(3):
            lat = HUB[0] + 0.01 * (k + 1) * math.sin(angle)
            lng = HUB[1] + 0.02 * (k + 1) * math.cos(angle)
            orders.append(
                Order(
                    organization=organization,
                    hub=hub,
                    merchant_reference=f"{slug}-{i}-{k}",
                    customer_name="Load",
                    address_text="x",
                    lat=lat,
                    lng=lng,
                    status="out_for_delivery",
                    time_windows=[{"start": start.isoformat(), "end": end.isoformat()}],
                    window_start=start,
                    window_end=end,
                    delivery_date=day,
                )
            )
        targets.append((lat, lng))
    orders = Order.objects.bulk_create(orders, batch_size=1000)
    stops = []
    for n, order in enumerate(orders):
        arrival = now + dt.timedelta(minutes=20 * (n % 3 + 1))
        stops.append(
            Stop(
                route=routes[n // 3],
                order=order,
                sequence=n % 3 + 1,
                planned_arrival=arrival,
                planned_departure=arrival + dt.timedelta(minutes=3),
            )
        )
    Stop.objects.bulk_create(stops, batch_size=1000)

    def session_for(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    return {
        "drivers": [
            {"id": d.pk, "session": session_for(u), "target": targets[i]}
            for i, (d, u) in enumerate(zip(driver_rows, users[:drivers], strict=True))
        ],
        "towers": [session_for(u) for u in users[drivers:]],
    }


# --- Process statistics (psutil when installed, else /proc) ------------------------------------


def process_tree(pid: int) -> list[int]:
    try:
        import psutil

        parent = psutil.Process(pid)
        return [pid, *(child.pid for child in parent.children(recursive=True))]
    except ImportError:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        kids = [int(c) for c in children.read_text().split()] if children.exists() else []
        return [pid, *(p for kid in kids for p in process_tree(kid))]


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CommitProbe(threading.Thread):
    """Times a one-row commit every 0.1 s on the same Postgres: how long the disk makes commits wait.

    A slow run with a slow probe was slowed by the machine's disk, not by Waypoint."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.latencies = url, threading.Event(), []

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (at timestamptz)")
            conn.commit()
            while not self.stop.wait(0.1):
                started = time.perf_counter()
                conn.execute("INSERT INTO bench_commit_probe VALUES (now())")
                conn.commit()
                self.latencies.append(time.perf_counter() - started)

    def summary(self) -> dict:
        return {
            "p50": round(percentile(self.latencies, 50), 1),
            "p99": round(percentile(self.latencies, 99), 1),
            "max": round(percentile(self.latencies, 100), 1),
            "samples": len(self.latencies),
        }


# --- The load ---------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.sent: dict[tuple[int, str], float] = {}
        self.acked = 0
        self.rejected = 0
        self.ack_latency: list[float] = []
        self.tower_latency: list[float] = []
        self.tower_timeline: list[tuple[float, float]] = []  # (sent at, latency) to show stalls
        self.seen: dict[tuple[int, str], int] = {}
        self.errors = 0
        self.tower_messages = 0  # WebSocket messages the towers received (a batch counts once)
        self.measuring = False
        self.measured_sent: set[tuple[int, str]] = set()


async def tower_client(url: str, origin: str, session: str, stats: Stats, ready: asyncio.Event, counter: list):
    from websockets.asyncio.client import connect

    async with connect(
        url, additional_headers={"Cookie": f"sessionid={session}", "Origin": origin}, max_size=2**24
    ) as ws:
        json.loads(await ws.recv())  # the snapshot
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        async for raw in ws:
            received = time.perf_counter()
            message = json.loads(raw)
            events = message["events"] if message.get("type") == "batch" else [message]
            stats.tower_messages += 1
            for event in events:
                if event.get("type") != "driver.position":
                    continue
                key = (event["driver_id"], event["recorded_at"])
                sent_at = stats.sent.get(key)
                if sent_at is not None:
                    if key in stats.measured_sent:
                        stats.tower_latency.append(received - sent_at)
                        stats.tower_timeline.append((sent_at, received - sent_at))
                    stats.seen[key] = stats.seen.get(key, 0) + 1


async def driver_client(url: str, origin: str, driver: dict, stats: Stats, interval: float, stop_at: float):
    from websockets.asyncio.client import connect

    here = list(HUB)
    target = driver["target"]
    await asyncio.sleep(random.uniform(0, interval))  # spread the drivers over the interval
    headers = {"Cookie": f"sessionid={driver['session']}", "Origin": origin}
    while time.perf_counter() < stop_at:
        try:
            async with connect(url, additional_headers=headers) as ws:
                while time.perf_counter() < stop_at:
                    here[0] += (target[0] - here[0]) * 0.02
                    here[1] += (target[1] - here[1]) * 0.02
                    recorded = dt.datetime.now(dt.UTC).isoformat()
                    key = (driver["id"], recorded)
                    started = time.perf_counter()
                    stats.sent[key] = started
                    if stats.measuring:
                        stats.measured_sent.add(key)
                    await ws.send(
                        json.dumps(
                            {
                                "type": "position",
                                "recorded_at": recorded,
                                "lat": here[0],
                                "lng": here[1],
                                "speed_mps": 8.0,
                                "battery_pct": 70,
                            }
                        )
                    )
                    ack = json.loads(await ws.recv())
                    if stats.measuring:
                        stats.ack_latency.append(time.perf_counter() - started)
                    stats.acked += ack.get("accepted", 0)
                    stats.rejected += len(ack.get("rejected", []))
                    await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
        except Exception as error:  # a dropped socket reconnects, like the phone app, and is counted
            stats.errors += 1
            if stats.errors <= 5:
                print(f"driver {driver['id']}: {type(error).__name__}: {error}", file=sys.stderr)
            await asyncio.sleep(1)


def _layer_backend() -> str:
    from django.conf import settings

    return settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] * 1000


def _timeline_p99(timeline: list[tuple[float, float]], started: float) -> list[float]:
    """p99 send → tower latency of each 10 s of the measurement, by send time."""
    windows: dict[int, list[float]] = {}
    for sent_at, latency in timeline:
        windows.setdefault(int((sent_at - started) // 10), []).append(latency)
    return [round(percentile(windows[k], 99)) for k in sorted(windows) if k >= 0]


async def run_load(base: str, fixture: dict, *, interval: float, warmup: float, duration: float, pids: list[int]):
    stats = Stats()
    ws_base = base.replace("http", "ws")
    ready, counter = asyncio.Event(), [0, len(fixture["towers"])]
    towers = [
        asyncio.create_task(tower_client(f"{ws_base}/ws/tower/", base, s, stats, ready, counter))
        for s in fixture["towers"]
    ]
    await asyncio.wait_for(ready.wait(), 60)
    stop_at = time.perf_counter() + warmup + duration
    drivers = [
        asyncio.create_task(driver_client(f"{ws_base}/ws/driver/", base, d, stats, interval, stop_at))
        for d in fixture["drivers"]
    ]
    await asyncio.sleep(warmup)
    stats.measuring, acked_before = True, stats.acked
    cpu_before, started = cpu_seconds(pids), time.perf_counter()
    each_before = [cpu_seconds([pid]) for pid in pids]
    machine_before, own_before = machine_cpu_seconds(), cpu_seconds([os.getpid()])
    probe = CommitProbe(os.environ["DATABASE_URL"])
    probe.start()
    rss_peak = 0.0
    while time.perf_counter() < stop_at:
        await asyncio.sleep(1)
        rss_peak = max(rss_peak, rss_mb(pids))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pids) - cpu_before
    each = [
        round(100 * (cpu_seconds([pid]) - before) / (time.perf_counter() - started), 1)
        for pid, before in zip(pids, each_before, strict=True)
    ]
    machine = machine_cpu_seconds() - machine_before
    own = cpu_seconds([os.getpid()]) - own_before
    acked = stats.acked - acked_before
    stats.measuring = False
    probe.stop.set()
    await asyncio.gather(*drivers)
    await asyncio.sleep(5)  # grace for the last pushes to reach the towers
    for task in towers:
        task.cancel()
    await asyncio.gather(*towers, return_exceptions=True)
    expected = len(stats.measured_sent) * len(fixture["towers"])
    received = sum(stats.seen.get(key, 0) for key in stats.measured_sent)
    return {
        "drivers": len(fixture["drivers"]),
        "towers": len(fixture["towers"]),
        "interval_s": interval,
        "measured_s": round(elapsed, 1),
        "positions_sent": len(stats.measured_sent),
        "positions_per_s": round(acked / elapsed, 1),
        "offered_per_s": round(len(fixture["drivers"]) / interval, 1),
        "rejected": stats.rejected,
        "driver_socket_drops": stats.errors,
        "ack_ms": {f"p{p}": round(percentile(stats.ack_latency, p), 1) for p in (50, 95, 99)},
        "tower_ms": {f"p{p}": round(percentile(stats.tower_latency, p), 1) for p in (50, 95, 99)},
        "tower_p99_ms_per_10s": _timeline_p99(stats.tower_timeline, started),
        "tower_deliveries": {"expected": expected, "received": received, "dropped": expected - received},
        "tower_websocket_messages": stats.tower_messages,
        "server_cpu_pct_of_one_core": round(100 * cpu / elapsed, 1),
        "server_rss_mb_peak": round(rss_peak, 1),
        "postgres_commit_probe_ms": probe.summary(),
        "server_cpu_pct_per_process": each,  # the supervisor, then each worker: shows an uneven spread
        "load_generator_cpu_pct_of_one_core": round(100 * own / elapsed, 1),
        # Postgres, Redis, the kernel, and anything else running: a busy machine explains a slow run.
        "rest_of_machine_cpu_pct_of_one_core": round(100 * (machine - cpu - own) / elapsed, 1),
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "channel_layer": _layer_backend(),
    }


async def run_storm(base: str, fixture: dict) -> dict:
    """Every driver socket connects at the same moment, as after a deploy: how long until each can talk."""
    from websockets.asyncio.client import connect

    times, failures, sockets = [], [], []

    async def one(driver: dict) -> None:
        started = time.perf_counter()
        headers = {"Cookie": f"sessionid={driver['session']}", "Origin": base}
        try:
            ws = await connect(f"{base.replace('http', 'ws')}/ws/driver/", additional_headers=headers, open_timeout=30)
            sockets.append(ws)
            await ws.send(json.dumps({"type": "ping"}))
            await ws.recv()
            times.append(time.perf_counter() - started)
        except Exception as error:  # counted: a refused or timed-out handshake is what this measures
            failures.append(f"{type(error).__name__}: {error}")

    started = time.perf_counter()
    await asyncio.gather(*(one(driver) for driver in fixture["drivers"]))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {
        "drivers": len(fixture["drivers"]),
        "all_answered_s": round(elapsed, 2),
        "failures": len(failures),
        "first_failures": failures[:3],
        "connect_to_first_reply_ms": {f"p{p}": round(percentile(times, p)) for p in (50, 95, 99, 100)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drivers", type=int, default=200)
    parser.add_argument("--towers", type=int, default=5)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a driver's positions")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--storm", action="store_true", help="instead: every driver connects at once (a deploy)")
    args = parser.parse_args()
    if not 1 <= args.drivers <= MAX_DRIVERS or args.duration > MAX_DURATION_S:
        sys.exit(f"Bounded: 1..{MAX_DRIVERS} drivers, at most {MAX_DURATION_S} s.")
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL (Postgres) and REDIS_URL: this measures the production configuration.")
    print(f"Setting up {args.drivers} drivers and {args.towers} tower users ...", flush=True)
    fixture = setup(args.drivers, args.towers)
    port = free_port()
    env = {
        **os.environ,
        "WAYPOINT_INPROCESS_WORKER": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("The server did not start.")
                time.sleep(0.3)
        time.sleep(1)
        pids = process_tree(server.pid)
        plan = (
            "all connect at once"
            if args.storm
            else f"every {args.interval} s, {args.towers} towers, {args.warmup:.0f} s warm-up + {args.duration:.0f} s"
        )
        print(f"Server pid(s) {pids}; {args.drivers} drivers {plan} ...", flush=True)
        # The measuring client's own garbage collections would pause it for up to 0.4 s with tens of
        # thousands of timestamps held, and count as server latency: it collects none while it measures.
        gc.collect()
        gc.disable()
        if args.storm:
            result = asyncio.run(run_storm(base, fixture))
        else:
            result = asyncio.run(
                run_load(base, fixture, interval=args.interval, warmup=args.warmup, duration=args.duration, pids=pids)
            )
        gc.enable()
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
