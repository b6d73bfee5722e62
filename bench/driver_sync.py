"""Driver app sync after an outage, on the production shape: uvicorn, Postgres, Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.driver_sync

Two scenarios, each on a fresh organization of its own (today's dispatched plan, bulk-created):

(a) one phone: a 100-stop route driven offline, so its queue holds 301 actions (start shift, then
    depart, arrive, complete or fail at each stop) and 60 photos (JPEGs made with Pillow, about
    200 KB each: 50 deliveries that require a photo, 10 failures with one). After the reconnect the
    phone uploads the photos (`POST /api/driver/proofs`, one at a time) and then sends the actions
    in batches (`POST /api/driver/actions`). Checked in the database: one DriverAction per client
    id, every stop's final status, one proof per photo, one `order_delivered` event per delivered
    order. Then the phone replays everything (its acknowledgements were lost): every answer is a
    replay and nothing in the database changes.
(b) a fleet: `--drivers` phones (200) whose queues filled during an outage sync at once (a barrier
    releases them together), each its photos then its actions, retrying a 5xx or a dropped
    connection with back-off (never sooner than a 503's Retry-After asks). Checked: 0 lost (every
    action applied, every stop in its final status), 0 duplicated (one DriverAction per client id,
    one delivery event per order); the latency of the sync requests (p50/p95/p99) is reported.

Exits non-zero when a check fails. Starts and stops its own server on a free loopback port; adds
rows to the database: never point it at a database you care about.
"""

import argparse
import datetime as dt
import io
import json
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import _setup

MAX_DRIVERS = 1000
# A phone retries until its answer comes (with back-off up to BACKOFF_CAP_S); the bench gives up
# only after GIVE_UP_S, which counts as a failed run.
BACKOFF_CAP_S = 10.0
GIVE_UP_S = 1800.0
# Which stops of the 100-stop route need a photo, and which fail (with a photo of the door).
ROUTE_STOPS = 100
PHOTO_STOPS = set(range(1, 51))
FAILED_STOPS = set(range(91, 101))


def jpeg(seed: int, target_kb: int = 200) -> bytes:
    """A real JPEG of about `target_kb` KB: noise compresses badly, so its size is predictable."""
    from PIL import Image

    rng = random.Random(seed)
    width, height = 512, 384
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    for quality in (92, 85, 75, 65, 55, 45):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= target_kb * 1024 * 1.1:
            return buffer.getvalue()
    return buffer.getvalue()


def retry_after(response: requests.Response | None) -> float:
    """The wait a 503 asks for (Retry-After in seconds), spread by up to half again so the phones
    told the same number do not all come back in the same instant; 0 when the answer names none."""
    header = None if response is None else response.headers.get("Retry-After", "")
    if not header or not header.strip().isdigit():
        return 0.0
    seconds = float(header.strip())
    return seconds * random.uniform(1.0, 1.5)


class Phone:
    """One driver's phone: a queue of proofs and actions recorded offline, synced on reconnect."""

    def __init__(self, driver: _setup.BenchDriver, *, failed: set[int], photos: set[int], seed: int) -> None:
        self.driver = driver
        self.proofs: list[dict] = []  # {client_id, stop_id, kind, captured_at, file}
        self.actions: list[dict] = []
        self.expected: dict[int, str] = {}  # stop id -> final status
        at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)

        def tick() -> str:
            nonlocal at
            at += dt.timedelta(seconds=40)
            return at.isoformat()

        loaded = {"vehicle_ok": True, "parcels_loaded": len(driver.stops)}
        self.actions.append(self._action("start_shift", None, tick(), payload=loaded))
        for stop in driver.stops:
            photo_ids = []
            if stop.sequence in photos or stop.sequence in failed:
                photo_ids.append(self._proof(stop.id, tick(), jpeg(seed * 1000 + stop.sequence)))
            self.actions.append(self._action("depart", stop.id, tick()))
            self.actions.append(self._action("arrive", stop.id, tick()))
            if stop.sequence in failed:
                payload = {"reason": "customer_absent", "note": "Nobody answered.", "photos": photo_ids}
                self.actions.append(self._action("fail", stop.id, tick(), payload=payload))
                self.expected[stop.id] = "failed"
            else:
                payload = {"photos": photo_ids, "recipient_name": "Aino"}
                self.actions.append(self._action("complete", stop.id, tick(), payload=payload))
                self.expected[stop.id] = "done"
        self.latencies: list[float] = []
        self.retries: dict[str, int] = {}  # answers that made the phone retry, by status
        self.answers: list[dict] = []  # every action result
        self.proof_statuses: list[int] = []

    def _action(self, kind: str, stop_id: int | None, at: str, payload: dict | None = None) -> dict:
        action = {"client_id": uuid.uuid4().hex, "kind": kind, "device_at": at, "payload": payload or {}}
        if stop_id is not None:
            action["stop_id"] = stop_id
        action.update(lat=_setup.HUB[0], lng=_setup.HUB[1], accuracy_m=8)
        return action

    def _proof(self, stop_id: int, at: str, content: bytes) -> str:
        client_id = uuid.uuid4().hex
        self.proofs.append({"client_id": client_id, "stop_id": stop_id, "kind": "photo", "at": at, "file": content})
        return client_id

    def _post(self, http: requests.Session, url: str, **kwargs) -> requests.Response:
        """A POST the way the app sends it: a 5xx or a dropped connection is retried with back-off."""
        give_up, attempt = time.monotonic() + GIVE_UP_S, 0
        while time.monotonic() < give_up:
            started = time.perf_counter()
            try:
                response = http.post(url, headers=self.driver.headers, timeout=600, **kwargs)
            except requests.RequestException:
                response = None
            self.latencies.append(time.perf_counter() - started)
            if response is not None and response.status_code < 500:
                return response
            cause = "no answer" if response is None else str(response.status_code)
            self.retries[cause] = self.retries.get(cause, 0) + 1
            backoff = min(BACKOFF_CAP_S, 0.25 * 2**attempt) * random.uniform(0.5, 1.0)
            time.sleep(max(backoff, retry_after(response)))
            attempt += 1
        raise SystemExit(f"{url}: no answer within {GIVE_UP_S:.0f} s")

    def sync(self, base: str, batch: int) -> None:
        """Proofs first (the actions name them), then the actions in order, in batches."""
        with requests.Session() as http:
            started = time.perf_counter()
            for proof in self.proofs:
                response = self._post(
                    http,
                    f"{base}/api/driver/proofs",
                    data={
                        "client_id": proof["client_id"],
                        "stop_id": proof["stop_id"],
                        "kind": proof["kind"],
                        "captured_at": proof["at"],
                    },
                    files={"file": (f"{proof['client_id']}.jpg", proof["file"], "image/jpeg")},
                )
                self.proof_statuses.append(response.status_code)
            self.proofs_s = time.perf_counter() - started
            started = time.perf_counter()
            for start in range(0, len(self.actions), batch):
                chunk = self.actions[start : start + batch]
                response = self._post(http, f"{base}/api/driver/actions", json={"actions": chunk})
                if response.status_code != 200:
                    raise SystemExit(f"actions: {response.status_code} {response.text[:500]}")
                self.answers.extend(response.json()["results"])
            self.actions_s = time.perf_counter() - started


def database_state(slug: str) -> dict:
    """What the sync may change, for one organization: counted and listed for comparison."""
    from django.db.models import Count

    from dispatch.models import DeliveryProof, DriverAction, Stop
    from orders.models import Order, OrderEvent

    actions = DriverAction.objects.filter(driver__organization__slug=slug)
    per_client = actions.values("driver_id", "client_id").annotate(n=Count("pk")).filter(n__gt=1)
    delivered_events = OrderEvent.objects.filter(order__organization__slug=slug, kind="order_delivered")
    return {
        "actions": actions.count(),
        "actions_by_outcome": dict(actions.values_list("outcome").annotate(n=Count("pk")).order_by()),
        "client_ids_stored_twice": per_client.count(),
        "client_ids": set(actions.values_list("client_id", flat=True)),
        "proofs": DeliveryProof.objects.filter(organization__slug=slug).count(),
        "stops": dict(Stop.objects.filter(route__plan__organization__slug=slug).values_list("pk", "status")),
        "orders": dict(Order.objects.filter(organization__slug=slug).values_list("pk", "status")),
        "order_events": OrderEvent.objects.filter(order__organization__slug=slug).count(),
        "delivery_events_twice": delivered_events.values("order_id").annotate(n=Count("pk")).filter(n__gt=1).count(),
    }


def check(phones: list[Phone], state: dict) -> dict:
    """Lost and duplicated actions, stops not in their final status, against what the phones sent."""
    sent = {a["client_id"] for phone in phones for a in phone.actions}
    expected_stops = {stop: status for phone in phones for stop, status in phone.expected.items()}
    answers = [answer for phone in phones for answer in phone.answers]
    return {
        "actions_sent": len(sent),
        "actions_stored": state["actions"],
        "lost": len(sent - state["client_ids"]),
        "duplicated": state["client_ids_stored_twice"] + state["delivery_events_twice"],
        "not_applied": sum(1 for answer in answers if answer.get("outcome") != "applied"),
        "rejections": sorted({answer.get("code", "") for answer in answers if answer.get("outcome") != "applied"}),
        "stops_not_final": sum(1 for stop, status in expected_stops.items() if state["stops"].get(stop) != status),
        "photos_sent": sum(len(phone.proofs) for phone in phones),
        "proofs_stored": state["proofs"],
    }


def one_phone(args) -> tuple[dict, bool]:
    slug, [driver] = _setup.fleet_create(
        drivers=1, stops_per_route=ROUTE_STOPS, proofs={n: ["photo"] for n in PHOTO_STOPS}
    )
    phone = Phone(driver, failed=FAILED_STOPS, photos=PHOTO_STOPS, seed=1)
    photo_kb = round(sum(len(p["file"]) for p in phone.proofs) / len(phone.proofs) / 1024)
    with _setup.server(workers=args.workers) as base:
        started = time.perf_counter()
        phone.sync(base, args.batch)
        first_s = time.perf_counter() - started
        state = database_state(slug)
        first = check([phone], state)
        replay = Phone.__new__(Phone)
        replay.__dict__.update(phone.__dict__, answers=[], proof_statuses=[], latencies=[], retries={})
        started = time.perf_counter()
        replay.sync(base, args.batch)
        replay_s = time.perf_counter() - started
    after = database_state(slug)
    changed = sorted(key for key in state if state[key] != after[key])
    report = {
        "actions": len(phone.actions),
        "photos": len(phone.proofs),
        "photo_kb_avg": photo_kb,
        "batch": args.batch,
        "first_sync_s": round(first_s, 2),
        "first_sync_proofs_s": round(phone.proofs_s, 2),
        "first_sync_actions_s": round(phone.actions_s, 2),
        "first_sync": first,
        "proof_answers_first": _tally(phone.proof_statuses),
        "requests_first": len(phone.latencies),
        "retries_first_by_answer": phone.retries,
        "replay_s": round(replay_s, 2),
        "replay_proofs_s": round(replay.proofs_s, 2),
        "replay_actions_s": round(replay.actions_s, 2),
        "replay_answers_replayed": sum(1 for a in replay.answers if a.get("replayed")),
        "proof_answers_replay": _tally(replay.proof_statuses),
        "replay_changed": changed,
    }
    ok = (
        first["lost"] == first["duplicated"] == first["not_applied"] == first["stops_not_final"] == 0
        and first["proofs_stored"] == first["photos_sent"]
        and report["replay_answers_replayed"] == len(phone.actions)
        and not changed
    )
    return report, ok


def fleet(args) -> tuple[dict, bool]:
    stops = args.stops
    photos = {1} if args.fleet_photos else set()
    slug, drivers = _setup.fleet_create(
        drivers=args.drivers, stops_per_route=stops, proofs={n: ["photo"] for n in photos}
    )
    failed = {stops} if stops > 1 else set()
    phones = [Phone(d, failed=failed, photos=photos, seed=n + 2) for n, d in enumerate(drivers)]
    barrier = threading.Barrier(len(phones))

    def go(phone: Phone) -> None:
        barrier.wait()  # the outage ends for everyone at once
        phone.sync(base, args.batch)

    with _setup.server(workers=args.workers) as base:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(phones)) as pool:
            list(pool.map(go, phones))
        elapsed = time.perf_counter() - started
    state = database_state(slug)
    result = check(phones, state)
    latencies = [s for phone in phones for s in phone.latencies]
    report = {
        "drivers": len(phones),
        "actions_per_driver": len(phones[0].actions),
        "photos_per_driver": len(phones[0].proofs),
        "batch": args.batch,
        "elapsed_s": round(elapsed, 2),
        "requests": len(latencies),
        "retries_by_answer": _sum_counts(phone.retries for phone in phones),
        "latency_ms": {q: _setup.quantile_ms(latencies, n) for q, n in (("p50", 50), ("p95", 95), ("p99", 99))},
        **result,
    }
    ok = result["lost"] == result["duplicated"] == result["not_applied"] == result["stops_not_final"] == 0
    return report, ok and result["proofs_stored"] == result["photos_sent"]


def _sum_counts(counts) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for key, n in count.items():
            total[key] = total.get(key, 0) + n
    return total


def _tally(statuses: list[int]) -> dict:
    tally: dict[str, int] = {}
    for status in statuses:
        tally[str(status)] = tally.get(str(status), 0) + 1
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["phone", "fleet", "both"], default="both")
    parser.add_argument("--drivers", type=int, default=200, help="phones in the fleet scenario")
    parser.add_argument("--stops", type=int, default=3, help="stops per route in the fleet scenario")
    parser.add_argument("--fleet-photos", type=int, choices=[0, 1], default=1, help="one photo per fleet phone")
    parser.add_argument("--batch", type=int, default=50, help="actions per POST /api/driver/actions (≤ 500)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()
    if not 0 < args.drivers <= MAX_DRIVERS or not 0 < args.batch <= 500 or args.stops < 1:
        parser.error(f"1..{MAX_DRIVERS} drivers, 1..500 actions per batch, at least one stop")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a Postgres database (the production shape is what this measures)")
    _setup.django_ready()
    reports, ok = {}, True
    if args.scenario in ("phone", "both"):
        reports["one_phone"], passed = one_phone(args)
        ok &= passed
    if args.scenario in ("fleet", "both"):
        reports["fleet"], passed = fleet(args)
        ok &= passed
    reports["load_average"] = [round(value, 2) for value in os.getloadavg()]
    print(json.dumps(reports, indent=2))
    if not ok:
        raise SystemExit("driver_sync: a check failed (see above)")


if __name__ == "__main__":
    main()
