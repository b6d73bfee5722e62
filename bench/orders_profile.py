"""Where a 1,000-order bulk request spends its time: Django's handler in this process, on Postgres.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench .venv/bin/python -m bench.orders_profile
    DATABASE_URL=... .venv/bin/python -m bench.orders_profile --profile --sort tottime --top 40

Posts the same bodies as `bench.orders_ingest` to POST /api/orders/bulk through Django's test
client (middleware, API key, DRF, the view; no HTTP server), after one warm-up batch. Without
`--profile` it prints the median CPU time of this process and the median wall time per batch (the
difference is mostly waiting for Postgres); with it, cProfile's statistics of one batch. Like
`bench.orders_ingest`, it migrates the database and adds an organisation and its orders.
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import time
import uuid

from bench.orders_ingest import order, setup_tenant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=10, help="1,000-order requests to time")
    parser.add_argument("--profile", action="store_true", help="cProfile one batch instead of timing")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--top", type=int, default=60, help="functions to list")
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database for this benchmark.")
    os.environ.setdefault("WAYPOINT_INPROCESS_WORKER", "0")
    os.environ.setdefault("WAYPOINT_API_RATE", "1000000/min")
    key = setup_tenant()
    from django.test import Client

    client, run = Client(), uuid.uuid4().hex[:6]

    def post(batch: str) -> tuple[float, float]:
        body = json.dumps({"orders": [order(f"{run}-{batch}-{i:04d}") for i in range(1000)]})
        cpu, wall = time.process_time(), time.perf_counter()
        response = client.post(
            "/api/orders/bulk", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )
        if response.status_code != 201:
            raise SystemExit(f"bulk batch failed: {response.status_code} {response.content[:300]!r}")
        return time.process_time() - cpu, time.perf_counter() - wall

    post("warm-up")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(post, "profiled")
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        return
    cpu, wall = zip(*(post(f"B{batch:03d}") for batch in range(args.batches)), strict=True)
    print(
        f"{args.batches} x 1000 orders: CPU {statistics.median(cpu) * 1000:.0f} ms, "
        f"wall {statistics.median(wall) * 1000:.0f} ms per batch (medians)"
    )


if __name__ == "__main__":
    main()
