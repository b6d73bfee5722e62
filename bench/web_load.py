"""Web load on the production shape: `uvicorn --workers N` on Postgres, database connections counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench \\
        .venv/bin/python -m bench.web_load --requests 2000 --concurrency 50 --workers 2
    ... --connections persistent   # the old default: no pool, DATABASE_CONN_MAX_AGE=60

Fires `--requests` HTTP requests from `--concurrency` client threads: a mix of API reads with an
API key (order list, order detail, hub list) and the server-rendered order list with a logged-in
session. Reports errors by status, latency p50/p95/p99, throughput, and the peak number of
connections the server processes held on Postgres (sampled from pg_stat_activity every 50 ms; the
server's connections are tagged with an application_name), then the number still held 5 s after
the last answer. It migrates the target database, creates its own organization, and starts and
stops its own server on a free loopback port. Never point it at a database you care about.
"""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._setup import wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_NAME = "waypoint-web-load"
MAX_REQUESTS = 20_000
MAX_CONCURRENCY = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(orders: int) -> dict:
    """A fresh organization with a hub, `orders` orders, an API key and a dispatcher's session."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import Organization, Role
    from accounts.services import api_key_create, user_create
    from common import clock
    from dispatch.models import Hub
    from orders.models import Order

    call_command("migrate", verbosity=0)
    slug = f"web-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    hub = Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Load hub",
        address="x",
        lat=60.1699,
        lng=24.9384,
        timezone="Europe/Helsinki",
    )
    day = clock.now().date()
    start = clock.now().replace(hour=9, minute=0, second=0, microsecond=0)
    end = start.replace(hour=15)
    created = Order.objects.bulk_create(
        Order(
            organization=organization,
            hub=hub,
            merchant_reference=f"WL-{i:05d}",
            status="validated",
            customer_name="Aino Virtanen",
            address_text=f"Mannerheimintie {i + 1}",
            lat=60.16 + (i % 10) * 0.002,
            lng=24.93 + (i % 7) * 0.003,
            delivery_date=day,
            time_windows=[{"start": start.isoformat(), "end": end.isoformat()}],
            window_start=start,
            window_end=end,
        )
        for i in range(orders)
    )
    _, raw_key = api_key_create(organization=organization, created_by=None, name="web load")
    user = user_create(organization=organization, username=f"{slug}-ops", password="!", role=Role.DISPATCHER)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {"api_key": raw_key, "session": store.session_key, "order_ids": [order.pk for order in created]}


def request_mix(count: int, order_ids: list[int], seed: int = 12) -> list[tuple[str, str]]:
    """(kind, path) pairs: 40 % order list, 30 % order detail, 10 % hubs (API key), 20 % the page."""
    rng = random.Random(seed)
    mix = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.4:
            mix.append(("api", "/api/orders"))
        elif roll < 0.7:
            mix.append(("api", f"/api/orders/{rng.choice(order_ids)}"))
        elif roll < 0.8:
            mix.append(("api", "/api/hubs"))
        else:
            mix.append(("page", "/orders/"))
    return mix


SERVER_CONNECTIONS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s"
)


def server_connections(conn) -> int:
    return conn.execute(SERVER_CONNECTIONS, [APPLICATION_NAME]).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument(
        "--connections",
        choices=["pool", "persistent"],
        default="pool",
        help="pool: the settings' defaults; persistent: DATABASE_POOL=0 and DATABASE_CONN_MAX_AGE=60 (the old default)",
    )
    args = parser.parse_args()
    if not 0 < args.requests <= MAX_REQUESTS or not 0 < args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"at most {MAX_REQUESTS} requests and {MAX_CONCURRENCY} client threads")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        parser.error("set DATABASE_URL to a Postgres database (connections are what this measures)")

    data = setup(args.orders)
    mix = request_mix(args.requests, data["order_ids"])
    port = free_port()
    env = {**os.environ, "PGAPPNAME": APPLICATION_NAME, "WAYPOINT_INPROCESS_WORKER": "0"}
    if args.connections == "persistent":
        env.update(DATABASE_POOL="0", DATABASE_CONN_MAX_AGE="60")
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port"]
    command += [str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        report = run(base, mix, data, args.concurrency, database_url)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report.update(
        connections_mode=args.connections,
        workers=args.workers,
        concurrency=args.concurrency,
        pool_max_size=None if args.connections == "persistent" else int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")),
    )
    print(json.dumps(report, indent=2))


def run(base: str, mix: list[tuple[str, str]], data: dict, concurrency: int, database_url: str) -> dict:
    import psycopg

    headers = {
        "api": {"Authorization": f"Bearer {data['api_key']}"},
        "page": {"Cookie": f"sessionid={data['session']}"},
    }

    def one(item: tuple[str, str]) -> tuple[int, float]:
        kind, path = item
        request = urllib.request.Request(base + path, headers=headers[kind])
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0  # refused or timed out
        return status, time.perf_counter() - started

    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not done.is_set():
                peak = max(peak, server_connections(conn))
                done.wait(0.05)

    watcher = threading.Thread(target=watch)
    load_before = os.getloadavg()
    started = time.perf_counter()
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(one, mix))
    finally:
        done.set()
        watcher.join()
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()
    time.sleep(5)
    with psycopg.connect(database_url, autocommit=True) as conn:
        held_after = server_connections(conn)

    latencies = sorted(seconds for _, seconds in results)
    quantiles = statistics.quantiles(latencies, n=100)
    errors: dict[str, int] = {}
    for status, _ in results:
        if not 200 <= status < 300:
            errors[str(status)] = errors.get(str(status), 0) + 1
    return {
        "requests": len(results),
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "elapsed_s": round(elapsed, 1),
        "requests_per_s": round(len(results) / elapsed, 1),
        "latency_ms": {
            "p50": round(quantiles[49] * 1000),
            "p95": round(quantiles[94] * 1000),
            "p99": round(quantiles[98] * 1000),
        },
        "peak_server_connections": peak,
        "server_connections_5s_after": held_after,
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in load_after],
    }


if __name__ == "__main__":
    main()
