"""Urgent insertion latency while long optimisation jobs run: two queues vs one shared queue.

    createdb -h 127.0.0.1 -U postgres h4_bench   # once; the benchmark migrates it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h4_bench REDIS_URL=redis://127.0.0.1:6380/6 \\
        .venv/bin/python -m bench.queue_isolation --jobs 4 --budget 60 --insertions 15 --every 2

For each mode it starts real Celery workers (two processes in both, on Redis, against the
bench database), queues `--jobs` long /api/optimize jobs, then creates `--insertions` urgent
orders for a dispatched plan, one every `--every` seconds, and times each from its commit to
its insertion into a live route (the order dispatched).

- queues: a worker of `--optimize-concurrency` processes on `optimize` and one of a single
  process on `live` (the production layout, docker-compose.yml);
- shared: one worker of `--optimize-concurrency` processes on a single queue that carries
  everything, as before: once the long jobs hold every process, live work waits;
- idle (`--modes idle,queues,shared`): the queues layout with no job at all, the floor on this
  machine at this moment (an insertion searches for up to 1 s, LIVE_BUDGET_S).

Never point it at a database you care about: it adds an organisation, orders, plans and jobs.
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUB = (60.1699, 24.9384)
ALL_WEEK = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), {"start": "06:00", "end": "22:00"})


def setup() -> dict:
    """A fresh organisation with a plan dispatched for tomorrow: urgent orders join its routes."""
    # Four jobs at once is the benchmark's load, not a tenant's abuse.
    os.environ["WAYPOINT_OPTIMIZE_MAX_CONCURRENT_PER_ORG"] = "100"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["WAYPOINT_INPROCESS_WORKER"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Organization
    from accounts.services import api_key_create
    from accounts.tenancy import Actor
    from config.celery import app
    from dispatch.models import Driver, Hub, Plan, Vehicle
    from dispatch.planning.services.plans import plan_create, plan_dispatch, plan_optimize

    call_command("migrate", verbosity=0)
    slug = f"queues-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    hub = Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Bench hub",
        address="x",
        lat=HUB[0],
        lng=HUB[1],
        timezone="Europe/Helsinki",
        service_radius_km=30,
    )
    for n in range(3):
        Vehicle.objects.create(
            organization=organization, home_hub=hub, name=f"Van {n}", capacity_parcels=200, capacity_kg=2000
        )
        Driver.objects.create(organization=organization, home_hub=hub, name=f"Driver {n}", weekly_shifts=ALL_WEEK)
    key, _ = api_key_create(organization=organization, created_by=None, name="bench")
    actor = Actor(organization=organization, api_key=key)
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()
    for n in range(12):
        create_order(actor, f"{slug}-base-{n}", day, n, priority=0)
    app.conf.task_always_eager = True  # the plan is solved here, before any worker runs
    plan = plan_create(actor=actor, hub=hub, date=day, time_budget_s=2)
    plan_optimize(actor=actor, plan=plan)
    plan = plan_dispatch(actor=actor, plan=Plan.objects.get(pk=plan.pk))
    app.conf.task_always_eager = False
    assert plan.status == "dispatched", plan.status
    return {"actor": actor, "day": day, "slug": slug}


def create_order(actor, reference: str, day: dt.date, n: int, *, priority: int):
    """What POST /api/orders does: the request's serializer, then the service."""
    from dispatch.network.selectors import hub_by_code
    from orders.serializers import OrderCreateSerializer
    from orders.services import order_create

    hubs = hub_by_code(organization=actor.organization)
    serializer = OrderCreateSerializer(data=order_row(reference, day, n, priority=priority), context={"hubs": hubs})
    serializer.is_valid(raise_exception=True)
    return order_create(actor=actor, row=serializer.validated_data)


def order_row(reference: str, day: dt.date, n: int, *, priority: int) -> dict:
    return {
        "merchant_reference": reference,
        "hub": "hel-1",
        "customer": {"name": "Bench Customer", "phone": "+358401234567"},
        "address": {
            "text": f"Mannerheimintie {n + 1}",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "FI",
            "lat": HUB[0] + 0.002 * (n % 15),
            "lng": HUB[1] + 0.003 * (n % 11),
        },
        "time_windows": [{"start": f"{day}T08:00:00+02:00", "end": f"{day}T20:00:00+02:00"}],
        "service_minutes": 3,
        "load": {"kg": 1, "m3": 0.01, "parcels": 1},
        "priority": priority,
    }


def long_problem(n_jobs: int = 60) -> dict:
    jobs = [
        {
            "id": i + 1,
            "location": [HUB[1] + 0.004 * (i % 9), HUB[0] + 0.003 * (i // 9)],
            "delivery": [1],
            "service": 120,
        }
        for i in range(n_jobs)
    ]
    vehicles = [{"id": v + 1, "start": [HUB[1], HUB[0]], "end": [HUB[1], HUB[0]], "capacity": [25]} for v in range(3)]
    return {"vehicles": vehicles, "jobs": jobs}


def start_worker(queues: list[str], concurrency: int, nice: int = 0) -> subprocess.Popen:
    from django.conf import settings

    env = {**os.environ, "WAYPOINT_QUEUE_PREFIX": settings.WAYPOINT_QUEUE_PREFIX, "WAYPOINT_INPROCESS_WORKER": "0"}
    command = [
        "nice",
        "-n",
        str(nice),
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        ",".join(queues),
    ]
    command += ["--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "-l", "warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def run_mode(mode: str, fixture: dict, args) -> dict:
    from django.conf import settings

    from config.celery import app
    from dispatch.models.jobs import JobStatus, OptimizationJob
    from dispatch.optimize.services import optimization_job_create
    from orders.models import Order

    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    settings.WAYPOINT_QUEUE_PREFIX = prefix
    saved_routes = settings.WAYPOINT_OPTIMIZE_TASKS
    if mode == "shared":
        settings.WAYPOINT_OPTIMIZE_TASKS = ()  # every task, solves included, on the one queue
        workers = [start_worker([f"{prefix}live"], args.optimize_concurrency)]
    else:
        workers = [
            start_worker([f"{prefix}optimize"], args.optimize_concurrency, args.optimize_nice),
            start_worker([f"{prefix}live"], 1),
        ]
    actor, day = fixture["actor"], fixture["day"]
    jobs = []
    try:
        # The live worker is up (a trivial task comes back) before anything is timed.
        app.send_task("common.tasks.idempotency_purge_task").get(timeout=180)
        for _ in range(0 if mode == "idle" else args.jobs):
            jobs.append(
                optimization_job_create(actor=actor, document=long_problem(), budget_s=args.budget, seed=len(jobs)).pk
            )
        running = lambda: OptimizationJob.objects.filter(pk__in=jobs, status=JobStatus.RUNNING).exists()  # noqa: E731
        if jobs and not wait_for(running, timeout=120):
            raise SystemExit(f"{mode}: no job started within 120 s (are the workers up?)")
        created: dict[str, float] = {}
        running_then: list[int] = []

        def send() -> None:
            for n in range(args.insertions):
                reference = f"{fixture['slug']}-{mode}-urgent-{n}"
                create_order(actor, reference, day, 20 + n, priority=95)
                created[reference] = time.monotonic()
                running_then.append(OptimizationJob.objects.filter(pk__in=jobs, status=JobStatus.RUNNING).count())
                time.sleep(args.every)

        sender = threading.Thread(target=send)
        sender.start()
        latencies: dict[str, float] = {}
        deadline = time.monotonic() + args.insertions * args.every + args.jobs * args.budget + 120
        while (sender.is_alive() or len(latencies) < len(created)) and time.monotonic() < deadline:
            waiting = [ref for ref in created if ref not in latencies]
            for ref in Order.objects.filter(merchant_reference__in=waiting, status="dispatched").values_list(
                "merchant_reference", flat=True
            ):
                latencies[ref] = time.monotonic() - created[ref]
            time.sleep(0.05)
        sender.join()
    finally:
        OptimizationJob.objects.filter(pk__in=jobs, status__in=["queued", "running"]).update(cancel_requested=True)
        for job in OptimizationJob.objects.filter(pk__in=jobs, status="queued"):
            OptimizationJob.objects.filter(pk=job.pk).update(status="cancelled")
        wait_for(lambda: not OptimizationJob.objects.filter(pk__in=jobs, status="running").exists(), timeout=60)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        settings.WAYPOINT_OPTIMIZE_TASKS = saved_routes
    values = sorted(latencies.values())
    return {
        "mode": mode,
        "inserted": f"{len(values)} of {args.insertions}",
        "p50": statistics.median(values) if values else float("nan"),
        "p95": percentile(values, 95),
        "max": max(values, default=float("nan")),
        "jobs_running": f"{min(running_then, default=0)}–{max(running_then, default=0)}",
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(pct / 100 * len(ranked) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4, help="long /api/optimize jobs queued first")
    parser.add_argument("--budget", type=float, default=60.0, help="each job's search budget, seconds")
    parser.add_argument("--insertions", type=int, default=15, help="urgent orders created")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between urgent orders")
    parser.add_argument("--optimize-concurrency", type=int, default=4, help="solver processes (both modes)")
    parser.add_argument("--optimize-nice", type=int, default=19, help="niceness of the optimize worker (queues)")
    parser.add_argument("--modes", default="queues,shared")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (a throw-away Postgres database) and REDIS_URL")
    fixture = setup()
    rows = [run_mode(mode, fixture, args) for mode in args.modes.split(",")]
    load = os.getloadavg()
    print(
        f"jobs={args.jobs} budget={args.budget:g}s insertions={args.insertions} every={args.every:g}s "
        f"optimize-concurrency={args.optimize_concurrency} optimize-nice={args.optimize_nice}"
    )
    print(f"load average (1/5/15 min) at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print("| mode | inserted | p50 | p95 | max | jobs running as each urgent order was created |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['mode']} | {row['inserted']} | {row['p50']:.2f} s | {row['p95']:.2f} s | {row['max']:.2f} s "
            f"| {row['jobs_running']} |"
        )


if __name__ == "__main__":
    main()
