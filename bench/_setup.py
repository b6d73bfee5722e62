"""What the driver benchmarks share: a fresh organization whose drivers have today's dispatched
routes, their sessions, and a real server (uvicorn) on a free loopback port.

Everything is created in the database that DATABASE_URL names (migrated first): never point a
benchmark at a database you care about. Rows are bulk-created, the way tracking_load does, so a
fleet of 200 drivers is ready in seconds; the orders start `dispatched`, as after plan dispatch.
"""

import contextlib
import datetime as dt
import math
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUB = (60.1699, 24.9384)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_ready() -> None:
    """Django set up in this process, the target database migrated."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@dataclass
class BenchStop:
    id: int
    order_id: int
    sequence: int
    proofs: list[str]


@dataclass
class BenchDriver:
    id: int
    username: str
    session: str
    csrf: str
    route_id: int
    stops: list[BenchStop] = field(default_factory=list)

    @property
    def headers(self) -> dict:
        """A signed-in phone: the session cookie, and the CSRF token Django asks of session POSTs."""
        return {"Cookie": f"sessionid={self.session}; csrftoken={self.csrf}", "X-CSRFToken": self.csrf}


def session_for(user) -> str:
    """A logged-in session for `user`, as Django's login would store it (no password round trip)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def fleet_create(
    *, drivers: int, stops_per_route: int, proofs: dict[int, list[str]] | None = None, password: str = "!"
) -> tuple[str, list[BenchDriver]]:
    """A fresh organization and `drivers` drivers, each on today's dispatched plan with a route.

    `proofs` maps a stop's sequence (1-based) to what its order requires (`["photo"]`...); the
    same on every route. A `password` other than "!" is set (hashed) so a real login works.
    Returns the organization's slug and the drivers.
    """
    from accounts.models import Organization, User
    from dispatch.models import Driver, Hub, Plan, Route, Stop, Vehicle
    from orders.models import Order
    from tracking.selectors.tower import organization_today

    proofs = proofs or {}
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug, timezone="Europe/Helsinki")
    hub = Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Bench hub",
        address="Salomonkatu 17, Helsinki",
        lat=HUB[0],
        lng=HUB[1],
        timezone="Europe/Helsinki",
    )
    day = organization_today(organization)
    users = [User(username=f"{slug}-d{i}", organization=organization, role="driver") for i in range(drivers)]
    for user in users:
        if password == "!":
            user.set_unusable_password()
        else:
            user.set_password(password)
    users = User.objects.bulk_create(users)
    driver_rows = Driver.objects.bulk_create(
        [Driver(organization=organization, user=u, name=f"Driver {i}", home_hub=hub) for i, u in enumerate(users)]
    )
    vehicles = Vehicle.objects.bulk_create(
        [Vehicle(organization=organization, name=f"Van {i}", home_hub=hub) for i in range(drivers)]
    )
    plan = Plan.objects.create(organization=organization, hub=hub, date=day, status="dispatched")
    routes = Route.objects.bulk_create(
        [Route(plan=plan, vehicle=v, driver=d) for v, d in zip(vehicles, driver_rows, strict=True)]
    )
    tz = hub.tz
    start = dt.datetime.combine(day, dt.time(8), tzinfo=tz)
    end = dt.datetime.combine(day, dt.time(20), tzinfo=tz)
    orders = []
    for i in range(drivers):
        angle = 2 * math.pi * i / max(drivers, 1)
        for k in range(stops_per_route):
            reach = 0.002 * (k % 20 + 1)
            orders.append(
                Order(
                    organization=organization,
                    hub=hub,
                    merchant_reference=f"{slug}-{i}-{k + 1}",
                    customer_name="Aino Virtanen",
                    address_text=f"Mannerheimintie {k + 1}",
                    lat=HUB[0] + reach * math.sin(angle),
                    lng=HUB[1] + 2 * reach * math.cos(angle),
                    status="dispatched",
                    time_windows=[{"start": start.isoformat(), "end": end.isoformat()}],
                    window_start=start,
                    window_end=end,
                    delivery_date=day,
                    proof_of_delivery=proofs.get(k + 1, []),
                )
            )
    orders = Order.objects.bulk_create(orders, batch_size=1000)
    stops = []
    for n, order in enumerate(orders):
        sequence = n % stops_per_route + 1
        arrival = start + dt.timedelta(minutes=4 * sequence)
        stops.append(
            Stop(
                route=routes[n // stops_per_route],
                order=order,
                sequence=sequence,
                planned_arrival=arrival,
                planned_departure=arrival + dt.timedelta(minutes=3),
            )
        )
    stops = Stop.objects.bulk_create(stops, batch_size=1000)
    bench = []
    for i, (user, driver, route) in enumerate(zip(users, driver_rows, routes, strict=True)):
        own = stops[i * stops_per_route : (i + 1) * stops_per_route]
        bench.append(
            BenchDriver(
                id=driver.pk,
                username=user.username,
                session=session_for(user),
                csrf=secrets.token_hex(16),
                route_id=route.pk,
                stops=[BenchStop(s.pk, s.order_id, s.sequence, proofs.get(s.sequence, [])) for s in own],
            )
        )
    return slug, bench


def wait_until_serving(base: str, server: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


@contextlib.contextmanager
def server(*, workers: int = 2, env: dict | None = None):
    """uvicorn serving Waypoint on a free loopback port (no in-process worker); yields its base URL."""
    port = free_port()
    environment = {**os.environ, "WAYPOINT_INPROCESS_WORKER": "0", **(env or {})}
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port"]
    command += [str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def quantile_ms(seconds: list[float], q: int) -> int | None:
    """The q-th percentile (1..99) of `seconds`, in milliseconds."""
    if not seconds:
        return None
    if len(seconds) == 1:
        return round(seconds[0] * 1000)
    import statistics

    return round(statistics.quantiles(sorted(seconds), n=100)[q - 1] * 1000)
