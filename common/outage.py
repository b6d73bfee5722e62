"""Redis unreachable, or the database's pool exhausted: answer 503 with Retry-After, not an HTML 500.

The API's exception handler (common/errors.py) covers DRF views; this middleware covers what
reaches the top from any other view: JSON under /api/, the branded templates/503.html elsewhere.
Only errors that say Redis (cache, broker) cannot be reached, or that no pooled database connection
came free in time, are turned into 503; everything else still propagates.
"""

import logging

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

from common.errors import unavailable_answer

logger = logging.getLogger(__name__)


class RedisOutageMiddleware(MiddlewareMixin):
    def process_exception(self, request, exception):
        if (unavailable := unavailable_answer(exception)) is None:
            return None
        body, headers = unavailable
        logger.warning("%s during %s %s: %r", body["message"], request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(body, status=503)
        else:
            response = render(request, "503.html", status=503)
        for name, value in headers.items():
            response[name] = value
        return response
