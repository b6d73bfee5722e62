"""Schemathesis against the live OpenAPI schema: no answer is a 500, every answer is documented.

Every operation of `/api/schema` is called through the WSGI app with generated (valid and invalid)
input, as a merchant API key and as a signed-in dispatcher, and each answer must be no server error,
have a status code the schema lists for that operation, and match the schema documented for it.
It runs on PostgreSQL because that is where hostile input fails (jsonb refuses `\\u0000`).

The suite runs schemathesis' coverage phase and a few random examples per operation, with a fixed
seed (SCHEMATHESIS_SEED). The long run, more random examples per operation (figures in
docs/benchmarks.md, "Schemathesis"); the number of requests and their status codes are reported:

    SCHEMATHESIS_MAX_EXAMPLES=20 DATABASE_URL=postgres://... \
        python -m pytest tests/test_schemathesis.py -p no:cacheprovider -q
"""

import collections
import os
import secrets

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "12"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
ANSWERS: collections.Counter = collections.Counter()


def _live_schema():
    """The schema `/api/schema` serves, generated once at collection (it reads no database)."""
    from drf_spectacular.generators import SchemaGenerator

    from config.wsgi import application

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = application
    return loaded


schema = _live_schema()


@pytest.fixture(scope="module", autouse=True)
def _report_answers(request):
    """How many requests were made and what they answered, below the test results."""
    yield
    if ANSWERS:
        counts = ", ".join(f"{code}: {n}" for code, n in sorted(ANSWERS.items()))
        plugins = request.config.pluginmanager
        with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
            plugins.get_plugin("terminalreporter").write_line(f"schemathesis: {ANSWERS.total()} requests ({counts})")


def call_and_check(case, headers):
    response = case.call(headers=headers)
    ANSWERS[response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


@pytest.fixture
def _one_connection(postgres):
    """Requests share the test's transaction, as in Django's test client.

    The WSGI handler closes the database connection after each request (`close_old_connections`);
    the test client disconnects that, schemathesis' WSGI client does not.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def merchant_headers(_one_connection, api_key, hub):
    return {"Authorization": f"Bearer {api_key.raw}"}


@pytest.fixture
def dispatcher_headers(_one_connection, dispatcher_user, hub):
    """A signed-in browser: the session cookie, and a CSRF token as the pages send it."""
    client = Client()
    client.force_login(dispatcher_user)
    csrf = secrets.token_hex(16)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}", "X-CSRFToken": csrf}


def fuzzed(*, phases=tuple(Phase)):
    """Bounded, reproducible generation: the same examples on every run of the same schema."""

    def decorate(test):
        test = hypothesis_seed(SEED)(test)
        test = settings(
            max_examples=MAX_EXAMPLES,
            phases=phases,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )(test)
        return schema.parametrize()(test)

    return decorate


@fuzzed()
def test_merchant_api_key(case, merchant_headers):
    """Whatever a merchant's key sends, the answer is documented and never a 500."""
    call_and_check(case, merchant_headers)


# Random input only: schemathesis' coverage phase (boundaries, missing and wrong-typed values,
# unexpected methods: most of the requests) is the same for both callers and runs above.
@fuzzed(phases=(Phase.generate,))
def test_dispatcher_session(case, dispatcher_headers):
    """Whatever a signed-in dispatcher's browser sends, the answer is documented and never a 500."""
    # The schema offers a bearer key too; a generated one would be refused before the session.
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    call_and_check(case, dispatcher_headers)
