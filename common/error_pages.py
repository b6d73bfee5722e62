"""Error pages: branded HTML for people, the API's one JSON error shape under /api/.

DRF views already answer their own errors through common.errors.api_exception_handler; these
handlers cover what reaches Django: an unknown /api/ URL, a page's PermissionDenied, a CSRF
failure, an unhandled exception. The 500 page renders without the request's context, so it
still renders when the database (which `user` would query) is what failed.
"""

from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from common.errors import error_body

API_PREFIX = "/api/"

# status -> (code, API message, page title, page text). Codes and API messages are DRF's own, so a
# client sees the same body whether DRF or Django answered.
ERRORS = {
    403: (
        "permission_denied",
        "You do not have permission to perform this action.",
        "Not available to your role",
        "This page is not open to your role. Ask an admin of your organization if you need it.",
    ),
    404: (
        "not_found",
        "Not found.",
        "Page not found",
        "There is nothing at this address, or it belongs to another organization.",
    ),
    500: (
        "server_error",
        "The server failed to answer; the error is logged. Try again in a moment.",
        "Something went wrong",
        "The error is logged. Try again in a moment.",
    ),
}
CSRF_MESSAGE = "The form expired or cookies are blocked. Reload the page and send it again."


def _answer(request, status: int, *, code="", title="", message="", with_request=True):
    default_code, api_message, default_title, text = ERRORS[status]
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body(code or default_code, message or api_message), status=status)
    context = {"status": status, "title": title or default_title, "text": message or text}
    open_before = {db.alias for db in connections.all(initialized_only=True) if db.connection is not None}
    try:
        html = loader.get_template("error.html").render(context, request if with_request else None)
    finally:
        _close_connections_opened_since(open_before)
    return HttpResponse(html, status=status)


def _close_connections_opened_since(open_before: set[str]) -> None:
    """Give back a connection the page opened to read the signed-in user for its header.

    Under ASGI, Django renders error pages with `sync_to_async(thread_sensitive=False)`: on an
    executor thread that outlives the request, where `request_finished` never closes what the page
    opened. With the connection pool each such thread kept a pooled connection for good; a burst of
    404s (favicons, scanners) pinned one per executor thread until every request waited 503. A
    connection that was already open, or inside a transaction, belongs to the request: left alone.
    """
    for db in connections.all(initialized_only=True):
        if db.alias not in open_before and db.connection is not None and not db.in_atomic_block:
            db.close()


@requires_csrf_token
def handler403(request, exception=None):
    return _answer(request, 403)


@requires_csrf_token
def handler404(request, exception=None):
    return _answer(request, 404)


@requires_csrf_token
def handler500(request):
    return _answer(request, 500, with_request=False)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: Django's reason is for developers, not shown."""
    return _answer(request, 403, code="csrf_failed", title="The form expired", message=CSRF_MESSAGE)
