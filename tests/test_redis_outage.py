"""Redis going away: requests that need it answer 503 with Retry-After, the others keep working."""

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import redis
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from common.events import ORDER_CANCELLED
from common.models import OutboxEvent
from common.outage import RedisOutageMiddleware
from tests.factories.fleet import OrderFactory
from tests.servers import free_port, uvicorn_server

OUTAGE_BODY = {"code": "service_unavailable", "message": "A backing service (Redis) is unavailable; try again shortly."}


@pytest.fixture
def throwaway_redis(redis_url):
    """A redis-server of this test's own, so that it can be killed; yields (url, process)."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server on PATH")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url, process
    process.kill()
    process.wait()


def _call(method: str, url: str, token: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, _body(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, _body(error)


def _body(response):
    # JSON when the server says so; the page text otherwise (the HTML 500 this file guards against).
    raw = response.read().decode()
    return json.loads(raw) if response.headers["Content-Type"] == "application/json" else raw


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_reads_answer_and_a_task_send_is_a_json_503(postgres, throwaway_redis, api_key, hub):
    """With Redis killed, listing and reading orders still answer 200 (the throttle lets them
    through); starting an async optimisation, which must reach the broker, answers 503 in the API's
    error shape with Retry-After instead of an HTML 500."""
    redis_url, redis_process = throwaway_redis
    order = OrderFactory(hub=hub)
    with uvicorn_server(workers=1, redis_url=redis_url) as url:
        assert _call("GET", f"{url}/api/orders", api_key.raw)[0] == 200  # the cache (Redis) was in use

        redis_process.kill()
        redis_process.wait()
        listed = _call("GET", f"{url}/api/orders", api_key.raw)
        read = _call("GET", f"{url}/api/orders/{order.pk}", api_key.raw)
        document = {"vehicles": [], "jobs": []}
        status, headers, body = _call("POST", f"{url}/api/optimize?mode=async", api_key.raw, document)

    assert listed[0] == 200
    assert [row["id"] for row in listed[2]["results"]] == [order.pk]
    assert (read[0], read[2]["id"]) == (200, order.pk)
    assert (status, body) == (503, OUTAGE_BODY)
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "30"


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_cancel_answers_200_and_leaves_its_event_to_the_sweep(
    postgres, throwaway_redis, api_key, hub
):
    """A cancel is committed before its event is handed to the broker: with Redis down it answers
    200 (not 503 for a change that was made) and its outbox event waits, undelivered, for the sweep."""
    redis_url, redis_process = throwaway_redis
    order = OrderFactory(hub=hub)
    with uvicorn_server(workers=1, redis_url=redis_url) as url:
        redis_process.kill()
        redis_process.wait()
        status, _, body = _call("POST", f"{url}/api/orders/{order.pk}/cancel", api_key.raw, {"reason": "customer"})

    order.refresh_from_db()
    assert (status, body.get("status"), order.status) == (200, "cancelled", "cancelled")
    events = OutboxEvent.objects.filter(name=ORDER_CANCELLED, payload__order_id=order.pk)
    assert [event.delivered_at for event in events] == [None]


@pytest.mark.parametrize(
    "error", [redis.ConnectionError("Connection refused"), redis.TimeoutError("Timeout reading from socket")]
)
def test_a_page_that_meets_redis_down_answers_the_branded_503(db, error):
    """A page whose view hits a Redis outage renders templates/503.html with 503 and Retry-After."""
    request = RequestFactory().get("/dispatch/")
    request.user = AnonymousUser()

    response = RedisOutageMiddleware(lambda request: None).process_exception(request, error)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.content.decode()


def test_an_api_view_outside_drf_that_meets_redis_down_answers_json_503():
    """Under /api/ the middleware answers the API's error shape, not the page."""
    request = RequestFactory().post("/api/anything")

    response = RedisOutageMiddleware(lambda request: None).process_exception(request, redis.ConnectionError())

    assert (response.status_code, json.loads(response.content)) == (503, OUTAGE_BODY)
    assert response["Retry-After"] == "30"


def test_other_errors_are_left_to_propagate():
    """Only Redis being unreachable becomes a 503; any other error stays a server error."""
    request = RequestFactory().get("/api/orders")

    response = RedisOutageMiddleware(lambda request: None).process_exception(request, RuntimeError("bug"))

    assert response is None
