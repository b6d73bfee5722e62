"""Domain errors and the one API exception handler that turns every error into one JSON shape.

Every error response is `{"code": ..., "message": ..., "errors": {field: [messages]}}`; `errors`
is present for validation failures and may carry `details` for domain errors.
"""

import kombu.exceptions
import psycopg_pool
import redis
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """Base of every business-rule refusal; `code` is stable, `message` is for humans."""

    code = "domain_error"
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ConflictError(DomainError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT


class NotFoundError(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND


class UnprocessableError(DomainError):
    code = "unprocessable"
    status_code = 422


class TooManyRequestsError(DomainError):
    """A limit on work in flight; the answer carries Retry-After (seconds)."""

    code = "too_many_requests"
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None, details: dict | None = None):
        super().__init__(message, code=code, details=details)
        self.retry_after_s = retry_after_s


class FieldValidationError(DomainError):
    """A service-level validation failure that names fields, like a serializer's."""

    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]], message: str = "Invalid input."):
        super().__init__(message, details={})
        self.errors = errors


_MESSAGES = {
    "parse_error": "The request body is not valid JSON.",
    "not_authenticated": "Authentication credentials were not provided or are invalid.",
    "authentication_failed": "Authentication credentials were not provided or are invalid.",
}


def flatten_errors(detail, prefix=""):
    """Turn DRF's nested error detail into {"field.sub[0]": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # ListField errors are keyed by position
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors" and prefix:  # a nested object's own error names it
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}[{index}]"))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def error_body(code: str, message: str, errors: dict | None = None, details: dict | None = None):
    body: dict = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    if details:
        body["details"] = details
    return body


# --- Redis unreachable (issue 12, item 8) ------------------------------------------------------
# Redis is the cache (throttle), the Celery broker and the channel layer. A request that needs it
# while it is down gets 503 with Retry-After (the API's error shape, or templates/503.html for a
# page), never a 500: the client did nothing wrong and may simply retry. kombu wraps a broker it
# cannot reach in OperationalError; Celery's result backend gives up with a RuntimeError raised
# from the Redis error, hence the walk along the causes.
REDIS_OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError, kombu.exceptions.OperationalError)
REDIS_OUTAGE_RETRY_AFTER_SECONDS = 30
REDIS_OUTAGE_MESSAGE = "A backing service (Redis) is unavailable; try again shortly."


def is_redis_outage(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, REDIS_OUTAGE_ERRORS):
            return True
        exc = exc.__cause__
    return False


def redis_outage_body() -> dict:
    return error_body("service_unavailable", REDIS_OUTAGE_MESSAGE)


def redis_outage_headers() -> dict[str, str]:
    return {"Retry-After": str(REDIS_OUTAGE_RETRY_AFTER_SECONDS)}


# --- The database's connection pool exhausted -------------------------------------------------
# Every connection of this process's pool stayed busy for DATABASE_POOL_TIMEOUT: the server is
# overloaded (a fleet of phones syncing at once after an outage), not broken. The client did
# nothing wrong, so it gets 503 with a short Retry-After and retries, rather than a 500.
DATABASE_BUSY_RETRY_AFTER_SECONDS = 2
DATABASE_BUSY_MESSAGE = "The server is busy; try again in a moment."


def is_database_busy(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, psycopg_pool.PoolTimeout):
            return True
        exc = exc.__cause__
    return False


def unavailable_answer(exc: BaseException | None) -> tuple[dict, dict[str, str]] | None:
    """The 503 body and headers for a backing service that is down or saturated, else None."""
    if is_redis_outage(exc):
        return redis_outage_body(), redis_outage_headers()
    if is_database_busy(exc):
        return (
            error_body("service_busy", DATABASE_BUSY_MESSAGE),
            {"Retry-After": str(DATABASE_BUSY_RETRY_AFTER_SECONDS)},
        )
    return None


def api_exception_handler(exc, context):
    if (unavailable := unavailable_answer(exc)) is not None:
        body, headers = unavailable
        return Response(body, status=503, headers=headers)
    if isinstance(exc, FieldValidationError):
        return Response(error_body(exc.code, exc.message, exc.errors), status=exc.status_code)
    if isinstance(exc, TooManyRequestsError):
        headers = {"Retry-After": str(exc.retry_after_s)}
        return Response(error_body(exc.code, exc.message, details=exc.details), exc.status_code, headers=headers)
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, details=exc.details), exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("validation_error", "Invalid input.", errors), status=400)
    if isinstance(exc, RequestDataTooBig):
        message = "The request body is too large; send at most WAYPOINT_MAX_BODY_BYTES per request."
        return Response(error_body("request_too_large", message), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("validation_error", "Invalid input.", flatten_errors(exc.detail))
        return response
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    code = code if isinstance(code, str) else "error"
    message = _MESSAGES.get(code) or str(getattr(exc, "detail", exc))
    response.data = error_body(code, message)
    return response
