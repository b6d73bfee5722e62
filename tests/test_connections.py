"""Database connections under concurrent load, in production shape: uvicorn with two workers."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.factories.fleet import OrderFactory
from tests.servers import server_connections, uvicorn_server

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 2
POOL_MAX_SIZE = 3


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_concurrent_requests_hold_at_most_the_pool_per_process(postgres, api_key, hub):
    """60 API requests at concurrency 20 all answer 200, and the two server processes never hold
    more than 2 × DATABASE_POOL_MAX_SIZE connections (persistent connections held one per thread)."""
    orders = OrderFactory.create_batch(3, hub=hub)
    peak = 0
    done = threading.Event()

    def watch_connections():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server_connections())
            done.wait(0.05)
        connection.close()  # this thread's own connection, or the test database cannot be dropped

    env = {"DATABASE_POOL": "1", "DATABASE_POOL_MAX_SIZE": str(POOL_MAX_SIZE), "DATABASE_POOL_TIMEOUT": "60"}
    with uvicorn_server(workers=WORKERS, env=env) as url:
        paths = ["/api/orders", *(f"/api/orders/{order.pk}" for order in orders)]
        urls = [f"{url}{paths[i % len(paths)]}" for i in range(60)]
        watcher = threading.Thread(target=watch_connections)
        watcher.start()
        try:
            with ThreadPoolExecutor(max_workers=20) as pool:
                statuses = list(pool.map(lambda u: _get(u, api_key.raw), urls))
        finally:
            done.set()
            watcher.join()
        peak = max(peak, server_connections())

    assert statuses == [200] * 60
    assert 0 < peak <= WORKERS * POOL_MAX_SIZE
