"""403, 404 and 500 answer a branded page to people and the API's JSON error shape under /api/."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.exception import response_for_exception
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory, override_settings
from django.utils.functional import SimpleLazyObject

from common.error_pages import CSRF_MESSAGE, handler403

pytestmark = pytest.mark.django_db


def _is_branded_page(response, status: int, title: str) -> bool:
    html = response.content.decode()
    return (
        response.status_code == status
        and response["Content-Type"].startswith("text/html")
        and 'class="brand"' in html
        and f"<h1>{title}</h1>" in html
        and 'name="viewport"' in html
    )


def test_an_unknown_page_answers_the_branded_404(client, viewer_user):
    client.force_login(viewer_user)

    response = client.get("/no-such-page/")

    assert _is_branded_page(response, 404, "Page not found")


@pytest.mark.pool  # what leaked was a pooled connection; make test-clock-shift runs without the pool
@pytest.mark.django_db(transaction=True)
def test_an_error_page_rendered_off_the_request_thread_gives_its_connection_back(postgres, viewer_user):
    """Django's ASGI handler renders error pages on an executor thread that outlives the request
    (`thread_sensitive=False`); the connection the page opened to read the user went back to the
    pool only when it was closed there. Before, each executor thread kept one for good, and the
    browser suite's favicon 404s emptied the pool until every page answered 503."""
    signed_in = Client()
    signed_in.force_login(viewer_user)
    request = RequestFactory().get("/no-such-page/")
    request.session = SessionStore(signed_in.cookies["sessionid"].value)
    request.user = SimpleLazyObject(lambda: get_user(request))  # as AuthenticationMiddleware sets it
    pool = connection.pool

    def lent_out() -> int:
        stats = pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = lent_out()
    render_off_thread = sync_to_async(response_for_exception, thread_sensitive=False)
    response = async_to_sync(render_off_thread)(request, Http404())

    assert response.status_code == 404
    assert viewer_user.username in response.content.decode()  # the page did read the user
    assert lent_out() == before


def test_an_unknown_api_url_answers_json_404(client):
    response = client.get("/api/no-such-endpoint")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_a_page_closed_to_the_role_answers_the_branded_403(client, viewer_user):
    client.force_login(viewer_user)

    response = client.get("/settings/api-keys/")

    assert _is_branded_page(response, 403, "Not available to your role")
    assert "Orders" in response.content.decode()  # the navigation stays, to go somewhere allowed


def test_a_permission_denied_under_api_answers_json_403():
    response = handler403(RequestFactory().get("/api/anything"))

    assert response.status_code == 403
    assert json.loads(response.content) == {
        "code": "permission_denied",
        "message": "You do not have permission to perform this action.",
    }


@override_settings(ROOT_URLCONF="tests.common.error_urls", DEBUG=False)
def test_a_failing_page_answers_the_branded_500_without_internals():
    response = Client(raise_request_exception=False).get("/boom/")

    assert _is_branded_page(response, 500, "Something went wrong")
    assert "kaboom" not in response.content.decode()


@override_settings(ROOT_URLCONF="tests.common.error_urls", DEBUG=False)
def test_a_failing_api_call_answers_json_500():
    response = Client(raise_request_exception=False).get("/api/boom")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "The server failed to answer; the error is logged. Try again in a moment.",
    }


def test_a_form_without_its_csrf_token_answers_the_branded_403():
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})

    assert _is_branded_page(response, 403, "The form expired")
    assert CSRF_MESSAGE in response.content.decode()
