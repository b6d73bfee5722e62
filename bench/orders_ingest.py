"""Order ingestion benchmark through the real HTTP path (uvicorn, Postgres).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench .venv/bin/python -m bench.orders_ingest

Measures bulk ingestion (orders/s with 1,000-order batches) and single-order create latency
(p50/p95 at a steady request rate). Right after the bulk requests it inserts the same rows with
their two history events through plain SQL (`bench.orders_raw`) and prints that ceiling beside
Waypoint's figure. It migrates the target database, creates its own organisation, and
starts/stops its own server on a free loopback port. Never point it at a database you care
about: it adds orders.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.orders_raw import raw_ceiling

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_tenant() -> str:
    """Create a fresh organisation, hub and API key in the bench database; return the key."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Organization
    from accounts.services import api_key_create
    from dispatch.models import Hub

    call_command("migrate", verbosity=0)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Bench hub",
        address="x",
        lat=60.1699,
        lng=24.9384,
        timezone="Europe/Helsinki",
        service_radius_km=20,
    )
    _, raw = api_key_create(organization=organization, created_by=None, name="bench")
    return raw


def order(reference: str) -> dict:
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    return {
        "merchant_reference": reference,
        "hub": "hel-1",
        "customer": {"name": "Bench Customer", "phone": "+358401234567"},
        "address": {
            "text": "Aleksanterinkatu 52",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "FI",
            "lat": 60.1688,
            "lng": 24.944,
        },
        "time_windows": [{"start": f"{day}T10:00:00+02:00", "end": f"{day}T12:00:00+02:00"}],
        "load": {"kg": 2, "m3": 0.01, "parcels": 1},
    }


class Client:
    def __init__(self, port: int, key: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")


def wait_ready(port: int, server: subprocess.Popen) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit("server exited during start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def bench_bulk(client: Client, batches: int, run: str) -> float:
    started = time.perf_counter()
    for batch in range(batches):
        rows = [order(f"{run}-B{batch:03d}-{i:04d}") for i in range(1000)]
        status, body = client.post("/api/orders/bulk", {"orders": rows})
        if status != 201:
            raise SystemExit(f"bulk batch failed: {status} {str(body)[:300]}")
    return batches * 1000 / (time.perf_counter() - started)


def bench_single(client: Client, count: int, rate: float, run: str) -> list[float]:
    latencies, interval = [], 1.0 / rate
    next_at = time.perf_counter()
    for index in range(count):
        time.sleep(max(0.0, next_at - time.perf_counter()))
        started = time.perf_counter()
        status, body = client.post("/api/orders", order(f"{run}-S{index:05d}"))
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 201:
            raise SystemExit(f"single create failed: {status} {str(body)[:300]}")
        next_at += interval
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=10, help="1,000-order bulk requests")
    parser.add_argument("--singles", type=int, default=500, help="single-order requests")
    parser.add_argument("--rate", type=float, default=20.0, help="single requests per second")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database for this benchmark.")
    key = setup_tenant()
    port = free_port()
    env = {**os.environ, "WAYPOINT_INPROCESS_WORKER": "0", "WAYPOINT_API_RATE": "1000000/min"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
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
    try:
        wait_ready(port, server)
        client, run = Client(port, key), uuid.uuid4().hex[:6]
        client.post("/api/orders", order(f"{run}-warmup"))
        per_second = bench_bulk(client, args.batches, run)
        ceiling = raw_ceiling(os.environ["DATABASE_URL"], batches=args.batches)
        latencies = bench_single(client, args.singles, args.rate, run)
    finally:
        server.terminate()
        server.wait(timeout=30)
    quantiles = statistics.quantiles(latencies, n=100)
    # The machine's load says whether a figure is comparable with another: 1 is one busy core.
    print("load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(f"bulk: {args.batches} x 1000 orders -> {per_second:,.0f} orders/s")
    print(f"raw Postgres ceiling (same rows, 2 history events each, plain SQL): {ceiling:,.0f} orders/s")
    print(
        f"single: {args.singles} requests at {args.rate:g}/s -> p50 {quantiles[49]:.1f} ms, "
        f"p95 {quantiles[94]:.1f} ms, p99 {quantiles[98]:.1f} ms, max {max(latencies):.1f} ms"
    )


if __name__ == "__main__":
    main()
