from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per logged-in user); 429 with Retry-After beyond the rate."""

    scope = "api_key"

    def allow_request(self, request, view):
        api_key = getattr(request, "auth", None)
        custom = getattr(api_key, "rate_limit_per_minute", None)
        if custom:
            self.rate = f"{custom}/min"
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        api_key = getattr(request, "auth", None)
        if getattr(api_key, "prefix", None):
            ident = f"key-{api_key.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
