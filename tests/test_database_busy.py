"""The database's pool exhausted under load: 503 with a short Retry-After, never a 500 with a traceback."""

import json

import psycopg_pool
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory

from common.errors import api_exception_handler
from common.outage import RedisOutageMiddleware

# psycopg_pool's timed waits never return under libfaketime 0.9.10 (make test-clock-shift), and
# nothing here reads the date: the clock-shifted run leaves this module out.
pytestmark = pytest.mark.pool

BUSY_BODY = {"code": "service_busy", "message": "The server is busy; try again in a moment."}


@pytest.fixture
def pool_timeout(postgres):
    """A real PoolTimeout from a one-connection pool whose connection is taken, as Django raises it
    (wrapped in django.db.OperationalError by the backend's error wrapper)."""
    db = connection.settings_dict
    conninfo = f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"
    with psycopg_pool.ConnectionPool(conninfo, min_size=1, max_size=1, timeout=0.1, open=True) as pool:
        taken = pool.getconn()
        try:
            with connection.wrap_database_errors:
                pool.getconn()
        except Exception as error:  # noqa: BLE001 - the wrapped error is what the test needs
            yield error
        finally:
            pool.putconn(taken)


def test_an_api_request_meeting_a_saturated_pool_answers_503_with_retry_after(pool_timeout):
    response = api_exception_handler(pool_timeout, {})

    assert (response.status_code, response.data, response["Retry-After"]) == (503, BUSY_BODY, "2")


def test_a_page_meeting_a_saturated_pool_answers_the_branded_503(pool_timeout):
    request = RequestFactory().get("/dispatch/")
    request.user = AnonymousUser()

    response = RedisOutageMiddleware(lambda request: None).process_exception(request, pool_timeout)

    assert (response.status_code, response["Retry-After"]) == (503, "2")
    assert "Temporarily unavailable" in response.content.decode()


def test_an_api_path_outside_drf_answers_json(pool_timeout):
    request = RequestFactory().post("/api/anything")

    response = RedisOutageMiddleware(lambda request: None).process_exception(request, pool_timeout)

    assert (response.status_code, json.loads(response.content)) == (503, BUSY_BODY)
