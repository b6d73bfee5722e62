"""Redis unreachable: answer 503 with Retry-After, not an HTML 500.

The API's exception handler (common/errors.py) covers DRF views; this middleware covers what
reaches the top from any other view: JSON under /api/, the branded templates/503.html elsewhere.
Only errors that say Redis (cache, broker) cannot be reached are turned into 503; everything else
still propagates.
"""

import logging

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin

from common.errors import is_redis_outage, redis_outage_body, redis_outage_headers

logger = logging.getLogger(__name__)


class RedisOutageMiddleware(MiddlewareMixin):
    def process_exception(self, request, exception):
        if not is_redis_outage(exception):
            return None
        logger.warning("Redis unavailable during %s %s: %r", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(redis_outage_body(), status=503)
        else:
            response = render(request, "503.html", status=503)
        for name, value in redis_outage_headers().items():
            response[name] = value
        return response
