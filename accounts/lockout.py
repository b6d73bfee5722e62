"""What a locked-out login attempt gets back: the API's JSON error shape or the branded page.

django-axes calls `lockout_response` (AXES_LOCKOUT_CALLABLE) once its middleware sees that the
attempt was refused because the account or the address has failed too often.
"""

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from common.errors import error_body

STATUS = 429


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def lockout_response(request: HttpRequest, *_axes_args) -> HttpResponse:
    # axes passes (response, credentials) from sync middleware and (credentials) from async
    # middleware; neither is needed here.
    minutes = settings.WAYPOINT_LOGIN_COOLOFF_MINUTES
    retry_after = str(math.ceil(settings.AXES_COOLOFF_TIME.total_seconds()))
    message = f"Too many failed sign-ins for this account or address. Try again in {minutes} minutes."
    if wants_json(request):
        response: HttpResponse = JsonResponse(error_body("login_locked_out", message), status=STATUS)
    else:
        response = render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=STATUS)
    response["Retry-After"] = retry_after
    return response
