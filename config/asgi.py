import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from config.websockets import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Full garbage collections pause every thread: with 1,000 drivers connected they took up to 0.4 s
# each, several times a minute (bench/tracking_load.py). Everything loaded so far (Django, the
# apps, the URL conf) lives as long as the process: frozen, it is never walked again, which
# halved those pauses.
gc.collect()
gc.freeze()

if settings.WAYPOINT_INPROCESS_WORKER:
    from config.celery import start_inprocess_worker

    start_inprocess_worker(with_schedule=True)
