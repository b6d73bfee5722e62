"""Merchant webhooks end to end (issue 14, "Measured"): fan-out throughput and latency, and recovery.

    createdb -h 127.0.0.1 -U postgres h_bench   # once; the benchmark migrates it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_bench REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python -m bench.webhooks_fanout --scenario fanout --events 10000 --rate 200 --workers 1
    ... --scenario outage --events 2000 --down-seconds 600
    ... --scenario kill --events 600

Orders are created (order_create_many, one batch per tick) through the real services, so every
event leaves through the outbox. In the outage and kill scenarios half the events are
`order.cancelled` (order_transition, one transaction each) of an order created a tick earlier,
which makes the per-order order of arrival checkable; fanout produces `order.created` only, since
a status change costs the producer about 56 ms here (docs/benchmarks.md) and would cap its rate.
The commit time of an event is `time.time()` right after
its producing call returns (its transaction committed). Three receivers (threaded http.server, each
in a process of its own) verify each request with the reference library `standardwebhooks` and record the
webhook-id and the receipt time. Real Celery workers (`-P solo`, one process each) consume the
`live` and `webhooks` queues under a prefix of their own; this process stands in for beat, sending the webhook
sweep every 30 s and the outbox sweep every 60 s, as the production schedule does.

- fanout: `--events` at `--rate` events/s with `--workers` live workers; commit → receipt latency
  of every (event, receiver) pair, throughput per worker, duplicates, order per order.
- outage: receiver 0 refuses connections for `--down-seconds` while `--events` are produced, then
  comes back; every event must reach all three once (by webhook-id), in order per order. The time
  to drain after the receiver came back depends on the product's retry schedule (5 s, 5 min,
  30 min...) and the 30 s sweep, which this benchmark does not change.
- kill: the receivers answer slowly (`--slow-ms`) so a worker is mostly inside a send; once the
  outbox has fanned every event out and about a third of the deliveries arrived, one worker is
  SIGKILLed and started again; same checks.

`WHBENCH_PROFILE=/tmp/whprof` runs each worker under cProfile (written to /tmp/whprof.<n> when it
stops), to see where a worker's time goes.

Never point it at a database you care about: it adds an organization, orders and webhook rows.
"""

import argparse
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench._setup import HUB, ROOT, free_port, quantile_ms

EVENT_TYPES = ["order.created", "order.cancelled"]
TICK_S = 0.1


class Receiver:
    """A merchant's endpoint: verifies the Standard Webhooks signature, records what arrived and when."""

    def __init__(self, name: str, *, slow_ms: int = 0):
        self.name, self.port, self.slow_ms = name, free_port(), slow_ms
        self.secret = ""
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, int, float]] = []  # webhook-id, type, order id, receipt time
        self.rejected = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{self.name}"

    def handle(self, headers: dict, body: bytes) -> int:
        from standardwebhooks import Webhook

        try:
            Webhook(self.secret).verify(body, headers)
        except Exception:
            with self.lock:
                self.rejected += 1
            return 400
        at = time.time()
        event = json.loads(body)
        if self.slow_ms:
            time.sleep(self.slow_ms / 1000)
        with self.lock:
            self.received.append((headers["webhook-id"], event["type"], event["data"]["order"]["id"], at))
        return 204

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as a merchant's web server would answer: Waypoint reuses its connections.
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Connections refused from now on (the socket closed), as a merchant's server that is off."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _serve(conn, name: str, slow_ms: int) -> None:
    """A receiver's own process: the bench's producer and its GIL never slow the answers down, as
    a merchant's server on another machine would not be. Commands come over `conn`, each answered."""
    receiver = Receiver(name, slow_ms=slow_ms)
    conn.send(receiver.port)
    while True:
        command, argument = conn.recv()
        answer = None
        if command == "secret":
            receiver.secret = argument
        elif command == "up":
            receiver.up()
        elif command in ("down", "stop"):
            receiver.down()
        elif command == "count":
            with receiver.lock:
                answer = (len({r[0] for r in receiver.received}), len(receiver.received))
        elif command == "report":
            with receiver.lock:
                usage = resource.getrusage(resource.RUSAGE_SELF)
                answer = (list(receiver.received), receiver.rejected, usage.ru_utime + usage.ru_stime)
        elif command == "clear":
            with receiver.lock:
                receiver.received.clear()
        conn.send(answer)
        if command == "stop":
            return


class RemoteReceiver:
    """A Receiver in a process of its own, driven from the bench process."""

    def __init__(self, name: str, *, slow_ms: int = 0):
        self.name = name
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(child, name, slow_ms), daemon=True)
        self.process.start()
        self.port = self.conn.recv()
        self._report: tuple | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{self.name}"

    def _do(self, command: str, argument=None):
        self.conn.send((command, argument))
        return self.conn.recv()

    def set_secret(self, secret: str) -> None:
        self._do("secret", secret)

    def up(self) -> None:
        self._do("up")

    def down(self) -> None:
        self._do("down")

    def clear(self) -> None:
        self._do("clear")

    def counts(self) -> tuple[int, int]:
        """(distinct webhook-ids, requests) received so far."""
        return self._do("count")

    def stop(self) -> None:
        """Stop serving and keep the final report (received, rejected, CPU seconds)."""
        self._report = self._do("report")
        self._do("stop")
        self.process.join(timeout=10)

    @property
    def received(self) -> list:
        return self._report[0]

    @property
    def rejected(self) -> int:
        return self._report[1]

    @property
    def cpu_s(self) -> float:
        return self._report[2]


def cpu_busy() -> tuple[float, float]:
    """The machine's (busy, total) CPU seconds so far, from /proc/stat (all cores)."""
    with open("/proc/stat") as stat:
        fields = [float(v) for v in stat.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (and its waited-for children)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(float(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def setup(receivers: list[RemoteReceiver]) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["WAYPOINT_INPROCESS_WORKER"] = "0"
    # Loopback receivers, as in the demo and tests; production refuses them.
    os.environ["WAYPOINT_WEBHOOKS_ALLOW_PRIVATE"] = "1"
    os.environ["WAYPOINT_QUEUE_PREFIX"] = f"whbench-{uuid.uuid4().hex[:6]}-"
    from bench._setup import django_ready

    django_ready()
    from accounts.models import Organization
    from accounts.services import api_key_create
    from accounts.tenancy import Actor
    from dispatch.models import Hub
    from notifications.webhooks.services import webhook_endpoint_create

    slug = f"webhooks-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Bench hub",
        address="x",
        lat=HUB[0],
        lng=HUB[1],
        timezone="Europe/Helsinki",
        service_radius_km=30,
    )
    key, _ = api_key_create(organization=organization, created_by=None, name="bench")
    for receiver in receivers:
        endpoint = webhook_endpoint_create(organization=organization, url=receiver.url, event_types=EVENT_TYPES)
        receiver.set_secret(endpoint.secret)
    return {"actor": Actor(organization=organization, api_key=key), "slug": slug}


class Producer:
    """Events at a steady rate: each tick creates a batch of orders (and cancels the previous tick's)."""

    def __init__(self, fixture: dict, *, events: int, rate: float, cancel: bool):
        self.fixture, self.events, self.rate, self.cancel = fixture, events, rate, cancel
        self.committed: dict[tuple[int, str], float] = {}
        self.done = threading.Event()
        self.lag_s = 0.0  # how far behind its schedule the producer ended (it could not keep the rate)
        self.finished_at = 0.0

    def run(self) -> None:
        from django.db import connection

        from dispatch.network.selectors import hub_by_code
        from orders.serializers import OrderCreateSerializer
        from orders.services import order_create_many, order_transition

        actor, slug = self.fixture["actor"], self.fixture["slug"]
        hubs = hub_by_code(organization=actor.organization)
        per_tick = max(2, round(self.rate * TICK_S))
        tick_s = per_tick / self.rate  # longer than TICK_S at rates under 20 events/s
        orders_total = self.events // 2 if self.cancel else self.events
        creates_per_tick = per_tick // 2 if self.cancel else per_tick
        made, previous, start = 0, [], time.monotonic()
        tick = 0
        try:
            while made < orders_total or previous:
                count = min(creates_per_tick, orders_total - made)
                if count:
                    raw = raw_rows(slug, made, count)
                    serializer = OrderCreateSerializer(data=raw, many=True, context={"hubs": hubs})
                    serializer.is_valid(raise_exception=True)
                    created = order_create_many(actor=actor, rows=serializer.validated_data, hubs=list(hubs.values()))
                    at = time.time()
                    for order in created:
                        self.committed[(order.pk, "order.created")] = at
                    made += count
                else:
                    created = []
                for order in previous:
                    order_transition(actor=None, order=order, to_status="cancelled", reason="bench")
                    self.committed[(order.pk, "order.cancelled")] = time.time()
                previous = created if self.cancel else []
                tick += 1
                wait = start + tick * tick_s - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            self.lag_s = max(0.0, time.monotonic() - (start + tick * tick_s))
        finally:
            connection.close()
            self.finished_at = time.time()
            self.done.set()


def raw_rows(slug: str, start: int, count: int) -> list[dict]:
    import datetime as dt

    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    return [
        {
            "merchant_reference": f"{slug}-{n}",
            "hub": "hel-1",
            "customer": {"name": "Bench Customer", "phone": "+358401234567"},
            "address": {
                "text": f"Mannerheimintie {n % 100 + 1}",
                "postcode": "00100",
                "city": "Helsinki",
                "country": "FI",
                "lat": HUB[0] + 0.002 * (n % 15),
                "lng": HUB[1] + 0.003 * (n % 11),
            },
            "time_windows": [{"start": f"{day}T08:00:00+02:00", "end": f"{day}T20:00:00+02:00"}],
            "load": {"kg": 1, "m3": 0.01, "parcels": 1},
        }
        for n in range(start, start + count)
    ]


def start_worker(index: int) -> subprocess.Popen:
    from django.conf import settings

    env = {**os.environ, "WAYPOINT_INPROCESS_WORKER": "0"}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo"]
    if os.environ.get("WHBENCH_PROFILE"):
        command[1:1] = ["-m", "cProfile", "-o", f"{os.environ['WHBENCH_PROFILE']}.{index}"]
    queues = ",".join(f"{settings.WAYPOINT_QUEUE_PREFIX}{queue}" for queue in ("live", "webhooks"))
    command += ["-Q", queues, "-n", f"whbench{index}-{uuid.uuid4().hex[:4]}@%h"]
    command += ["--without-gossip", "--without-mingle", "-l", "warning"]
    log = open(f"/tmp/webhooks_fanout_worker{index}.log", "ab")  # noqa: SIM115 (the worker writes it)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


class Beat:
    """This process's stand-in for celery beat: the webhook sweep every 30 s, the outbox's every 60 s."""

    def __init__(self):
        self.stop = threading.Event()

    def run(self) -> None:
        from common.tasks import events_sweep_task
        from notifications.webhooks.tasks import webhook_deliveries_sweep_task

        ticks = 0
        while not self.stop.wait(30):
            ticks += 1
            webhook_deliveries_sweep_task.delay()
            if ticks % 2 == 0:
                events_sweep_task.delay()


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_all(receivers: list[RemoteReceiver], expected: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(receiver.counts()[0] >= expected for receiver in receivers):
            return True
        time.sleep(0.2)
    return False


def checks(receivers: list[RemoteReceiver], producer: Producer) -> dict:
    """Missing, duplicated (by webhook-id) and out-of-order (per order and receiver) deliveries."""
    expected = set(producer.committed)
    missing = duplicates = out_of_order = rejected = 0
    for receiver in receivers:
        rejected += receiver.rejected
        ids = Counter(r[0] for r in receiver.received)
        duplicates += sum(n - 1 for n in ids.values())
        seen = {(order_id, kind) for _, kind, order_id, _ in receiver.received}
        missing += len(expected - seen)
        first_seen: dict[int, list[str]] = defaultdict(list)
        for _, kind, order_id, _ in sorted(receiver.received, key=lambda r: r[3]):
            if kind not in first_seen[order_id]:
                first_seen[order_id].append(kind)
        out_of_order += sum(1 for kinds in first_seen.values() if kinds[:1] == ["order.cancelled"])
    return {"missing": missing, "duplicates": duplicates, "out_of_order": out_of_order, "rejected": rejected}


def latencies(receivers: list[RemoteReceiver], producer: Producer) -> list[float]:
    values = []
    for receiver in receivers:
        first: dict[tuple[int, str], float] = {}
        for _, kind, order_id, at in receiver.received:
            key = (order_id, kind)
            first[key] = min(at, first.get(key, at))
        values += [at - producer.committed[key] for key, at in first.items() if key in producer.committed]
    return values


def warm_up(fixture: dict, receivers: list[RemoteReceiver]) -> None:
    """One order through the whole path before anything is timed (workers up, connections open)."""
    from dispatch.network.selectors import hub_by_code
    from orders.serializers import OrderCreateSerializer
    from orders.services import order_create_many

    hubs = hub_by_code(organization=fixture["actor"].organization)
    rows = raw_rows(fixture["slug"] + "-warm", 0, 1)
    serializer = OrderCreateSerializer(data=rows, many=True, context={"hubs": hubs})
    serializer.is_valid(raise_exception=True)
    order_create_many(actor=fixture["actor"], rows=serializer.validated_data, hubs=list(hubs.values()))
    if not wait_all(receivers, 1, timeout=180):
        raise SystemExit("the warm-up event did not reach every receiver in 180 s (are the workers up?)")
    for receiver in receivers:
        receiver.clear()


def run(args) -> None:
    receivers = [RemoteReceiver(f"r{n}", slow_ms=args.slow_ms if args.scenario == "kill" else 0) for n in range(3)]
    for receiver in receivers:
        receiver.up()
    fixture = setup(receivers)
    from notifications.models.webhooks import WebhookEndpoint, WebhookEvent

    workers = [start_worker(n) for n in range(args.workers)]
    beat = Beat()
    threading.Thread(target=beat.run, daemon=True).start()
    notes: list[str] = []
    try:
        warm_up(fixture, receivers)
        producer = Producer(fixture, events=args.events, rate=args.rate, cancel=args.scenario != "fanout")
        if args.scenario == "outage":
            receivers[0].down()
            down_at = time.monotonic()
        started = time.time()
        busy_before, bench_cpu_before = cpu_busy(), time.process_time()
        workers_cpu_before = [process_cpu_s(worker.pid) for worker in workers]
        thread = threading.Thread(target=producer.run)
        thread.start()
        if args.scenario == "outage":
            while time.monotonic() - down_at < args.down_seconds:
                time.sleep(0.5)
            receivers[0].up()
            back_at = time.time()
            notes.append(f"receiver r0 down {args.down_seconds:g} s from the first event on, then back")
        if args.scenario == "kill":
            organization = fixture["actor"].organization
            events_expected = args.events
            third = args.events  # of 3 × events deliveries
            while not (
                producer.done.is_set()
                and WebhookEvent.objects.filter(organization=organization).count() >= events_expected + 1
                and sum(r.counts()[1] for r in receivers) >= third
            ):
                time.sleep(0.05)
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
            killed_at = time.time()
            arrived = sum(r.counts()[1] for r in receivers)
            time.sleep(args.restart_after)
            workers[0] = start_worker(0)
            notes.append(
                f"worker 0 SIGKILLed after {arrived} of {3 * args.events} deliveries had arrived, "
                f"restarted {args.restart_after:g} s later"
            )
        thread.join()
        produced_at = producer.finished_at
        complete = wait_all(receivers, args.events, timeout=args.drain_timeout)
        finished = time.time()
        busy_after, bench_cpu = cpu_busy(), time.process_time() - bench_cpu_before
        workers_cpu = sum(process_cpu_s(w.pid) for w in workers) - sum(workers_cpu_before)
    finally:
        beat.stop.set()
        stop_workers(workers)
        # What this run left pending would otherwise be swept into a later run's workers, to
        # receivers long gone (an inactive endpoint's deliveries are abandoned when claimed).
        WebhookEndpoint.objects.filter(organization=fixture["actor"].organization).update(active=False)
        for receiver in receivers:
            receiver.stop()
    values = latencies(receivers, producer)
    arrivals = sorted(r[3] for receiver in receivers for r in receiver.received)
    load = os.getloadavg()
    result = checks(receivers, producer)
    order_check = result["out_of_order"] if producer.cancel else "n/a (one event per order)"
    print(f"scenario={args.scenario} events={args.events} rate={args.rate:g}/s workers={args.workers}")
    for note in notes:
        print(f"  {note}")
    print(f"load average (1/5/15 min) at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print(
        f"produced in {produced_at - started:.1f} s (producer behind schedule by {producer.lag_s:.1f} s at the end); "
        f"all delivered: {complete}; last receipt {arrivals[-1] - started:.1f} s after the first event"
        if arrivals
        else "nothing arrived"
    )
    if arrivals:
        span = arrivals[-1] - started
        print(
            f"deliveries {len(arrivals)} (events × endpoints) in {span:.1f} s: {len(arrivals) / span:.0f}/s, "
            f"{len(arrivals) / span / args.workers:.0f}/s per worker"
        )
    print(
        f"commit → receipt p50 {quantile_ms(values, 50)} ms, p95 {quantile_ms(values, 95)} ms, "
        f"p99 {quantile_ms(values, 99)} ms, max {round(max(values, default=0) * 1000)} ms over {len(values)}"
    )
    print(
        f"missing {result['missing']}, duplicated webhook-ids {result['duplicates']}, "
        f"orders whose cancellation arrived before their creation {order_check}, "
        f"signatures rejected {result['rejected']}"
    )
    span_s = finished - started
    machine = (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]) * os.cpu_count()
    receivers_cpu = sum(receiver.cpu_s for receiver in receivers)
    print(
        f"CPU over the {span_s:.1f} s run, in cores busy on average: machine {machine:.2f} of {os.cpu_count()}; "
        f"workers {workers_cpu / span_s:.2f}, producer (bench) {bench_cpu / span_s:.2f}, "
        f"receivers {receivers_cpu / span_s:.2f} (including their start-up), the rest (Postgres, Redis, others) "
        f"{machine - (workers_cpu + bench_cpu + receivers_cpu) / span_s:.2f}"
    )
    if args.scenario == "outage" and arrivals:
        late = sorted(r[3] for r in receivers[0].received if r[3] >= back_at)
        if late:
            drained = late[-1] - back_at
            print(f"receiver r0 back: {len(late)} deliveries after it, drained {drained:.1f} s after it came back")
    if args.scenario == "kill" and arrivals:
        print(f"drained {finished - killed_at:.1f} s after the kill")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["fanout", "outage", "kill"], default="fanout")
    parser.add_argument("--events", type=int, default=None, help="events produced (10,000 fanout, 2,000 outage)")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second the producer aims at")
    parser.add_argument("--workers", type=int, default=1, help="live workers (solo pool, one process each)")
    parser.add_argument("--down-seconds", type=float, default=600.0, help="outage: how long receiver r0 is down")
    parser.add_argument("--slow-ms", type=int, default=20, help="kill: each receiver's answer time")
    parser.add_argument("--restart-after", type=float, default=5.0, help="kill: seconds before the worker restarts")
    parser.add_argument("--drain-timeout", type=float, default=3600.0, help="seconds to wait for every delivery")
    args = parser.parse_args()
    if args.events is None:
        args.events = {"fanout": 10_000, "outage": 2_000, "kill": 2_000}[args.scenario]
    args.events -= args.events % 2
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (a throw-away Postgres database) and REDIS_URL")
    run(args)


if __name__ == "__main__":
    main()
