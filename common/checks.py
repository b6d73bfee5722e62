"""Start-up checks that say loudly what an operator must fix (`manage.py check`, runserver, migrate).

The ASGI server does not run system checks, so `secret_key_warn_at_startup` also logs the
secret-key problem once when the `common` app is ready.
"""

import logging

from django.conf import settings
from django.core import checks

logger = logging.getLogger("waypoint.security")

PUBLIC_SECRET_KEY = (
    "DJANGO_SECRET_KEY is not set: Waypoint is using the public fallback key, so anyone can forge "
    "sessions, password-reset links and signed tracking tokens."
)
SET_IT = 'Set DJANGO_SECRET_KEY to a long random value (python -c "import secrets; print(secrets.token_urlsafe(50))").'


def _production() -> bool:
    return bool(getattr(settings, "WAYPOINT_PRODUCTION", False))


@checks.register(checks.Tags.security, deploy=False)
def secret_key_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not getattr(settings, "WAYPOINT_SECRET_KEY_IS_PUBLIC", False):
        return []
    if _production():
        return [checks.Error(PUBLIC_SECRET_KEY, hint=SET_IT, id="waypoint.E001")]
    return [checks.Warning(PUBLIC_SECRET_KEY + " Fine for the demo only.", hint=SET_IT, id="waypoint.W001")]


def secret_key_warn_at_startup() -> None:
    if getattr(settings, "WAYPOINT_SECRET_KEY_IS_PUBLIC", False):
        logger.warning("%s %s", PUBLIC_SECRET_KEY, SET_IT)
