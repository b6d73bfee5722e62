import logging

import redis
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per logged-in user); 429 with Retry-After beyond the rate."""

    scope = "api_key"

    def allow_request(self, request, view):
        api_key = getattr(request, "auth", None)
        custom = getattr(api_key, "rate_limit_per_minute", None)
        if custom:
            self.rate = f"{custom}/min"
            self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            # The counters live in the cache (Redis). Without it the rate cannot be counted:
            # letting requests through keeps reads that need no Redis working through an outage,
            # where refusing would take the whole API down with the cache (issue 12, item 8).
            logger.warning("Throttle skipped, the cache is unavailable: %r", error)
            return True

    def get_cache_key(self, request, view):
        api_key = getattr(request, "auth", None)
        if getattr(api_key, "prefix", None):
            ident = f"key-{api_key.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
