"""The driver's phone app (`/driver/`): the shell page, its web app manifest and its service worker.

The page carries no route data: the app reads `GET /api/driver/today`, writes through the action
queue (`static/driver/queue.js`) and works offline from what the service worker cached.
"""

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from dispatch.models import FailureReason

# What the service worker stores on install so that the app opens without a network.
SHELL_STATIC = (
    "driver/app.js",
    "driver/queue.js",
    "driver/driver.css",
    "driver/icon.svg",
    "driver/icon-192.png",
    "driver/icon-512.png",
    "common/time.js",
    "maps/map.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/idb/build/index.js",
    "vendor/signature_pad/dist/signature_pad.js",
)
DEFAULT_POSITION_INTERVAL_S = 15
# FailureReason's labels, marked here so that makemessages keeps them in the catalogue; the model
# stays untranslated (the API and analytics use its values). A test checks both lists agree.
FAILURE_REASON_LABELS = (
    gettext_noop("Customer not at home"),
    gettext_noop("Address wrong or not found"),
    gettext_noop("Refused by the recipient"),
    gettext_noop("Parcel damaged"),
    gettext_noop("No safe place to leave it"),
    gettext_noop("Access restricted"),
    gettext_noop("Out of time"),
    gettext_noop("Vehicle issue"),
    gettext_noop("Other"),
)


def position_interval_s() -> float:
    return float(getattr(settings, "WAYPOINT_DRIVER_POSITION_INTERVAL_S", DEFAULT_POSITION_INTERVAL_S))


def app_strings() -> dict[str, str]:
    """The script's words, translated on the server with the page (static/driver/app.js reads them)."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "unsynced": _("Unsynced"),
        "syncing": _("Syncing…"),
        "no_route": _("No route for you today."),
        "loading": _("Loading today's route…"),
        "stale": _("Offline: showing the route saved on this phone."),
        "done": _("Done"),
        "remaining": _("Remaining"),
        "failed": _("Failed"),
        "next_stop": _("Next stop"),
        "all_done": _("All stops visited."),
        "stop": _("Stop"),
        "eta": _("ETA"),
        "window": _("Window"),
        "instructions": _("Instructions"),
        "access_code": _("Access code"),
        "customer_choice": _("Customer's choice"),
        "load": _("Load"),
        "parcels": _("parcels"),
        "cash": _("Cash to collect"),
        "proofs": _("Proofs required"),
        "navigate": _("Navigate"),
        "call": _("Call"),
        "message": _("Message"),
        "contact_sent": _("Connecting you to the customer…"),
        "contact_failed": _("Could not reach the customer service now."),
        "start_shift": _("Start shift"),
        "end_shift": _("End shift"),
        "vehicle_ok": _("Vehicle checked and OK"),
        "vehicle_notes": _("Vehicle notes"),
        "parcels_loaded": _("Parcels loaded"),
        "shift_started": _("Shift started"),
        "shift_ended": _("Shift ended"),
        "depart": _("Depart to stop"),
        "arrive": _("Arrived"),
        "complete": _("Complete delivery"),
        "fail": _("Could not deliver"),
        "pickup": _("Pick up items"),
        "signature": _("Signature"),
        "clear": _("Clear"),
        "photo": _("Photo"),
        "code": _("One-time code"),
        "recipient_name": _("Recipient's name"),
        "cash_collected": _("Cash collected"),
        "reason": _("Reason"),
        "note": _("Note"),
        "items": _("Items (one code per line)"),
        "scan": _("Scan"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "queued": _("Saved on the phone, waiting to sync"),
        "synced": _("Synced"),
        "rejected": _("Refused by the server"),
        "missing_signature": _("Draw the signature first."),
        "status_planned": _("Planned"),
        "status_en_route": _("On the way"),
        "status_arrived": _("Arrived"),
        "status_done": _("Delivered"),
        "status_failed": _("Not delivered"),
        "status_skipped": _("Skipped"),
        "proof_signature": _("signature"),
        "proof_photo": _("photo"),
        "proof_one_time_code": _("one-time code"),
        "proof_recipient_name": _("recipient's name"),
        "proof_cash_collected": _("cash"),
        "delivery": _("Delivery"),
        "pickup_stop": _("Pickup"),
    }


def _driver_time_zone(request) -> str:
    """Times on the phone are the driver's home hub's (the route's), else the organization's."""
    driver = getattr(request.user, "driver_profile", None)
    return driver.home_hub.timezone if driver is not None else request.actor.organization.timezone


@organization_page(roles=page_roles("driver-app"))
def driver_app(request):
    config = {
        "todayUrl": "/api/driver/today",
        "actionsUrl": "/api/driver/actions",
        "proofsUrl": "/api/driver/proofs",
        "positionsUrl": reverse("api-driver-positions"),
        "contactUrl": "/api/driver/stops/0/contact",
        "socketPath": "/ws/driver/",
        "serviceWorkerUrl": reverse("driver-sw"),
        "scope": reverse("driver-app"),
        "positionIntervalS": position_interval_s(),
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "basemapUrl": reverse("map-basemap"),
        "user": request.user.pk,
        "timeZone": _driver_time_zone(request),
    }
    context = {
        "config": config,
        "strings": app_strings(),
        "failure_reasons": [{"value": value, "label": _(label)} for value, label in FailureReason.choices],
    }
    return render(request, "driver/app.html", context)


@require_GET
def manifest(request):
    # Browsers fetch the manifest without cookies: it is public and names nothing private.
    body = {
        "name": _("Waypoint driver"),
        "short_name": _("Driver"),
        "id": reverse("driver-app"),
        "start_url": reverse("driver-app"),
        "scope": reverse("driver-app"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b3d91",
        "icons": [
            {"src": static("driver/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("driver/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": static("driver/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json")


def _shell_urls() -> list[str]:
    """The shell's static URLs; with hashed names (production) the plain names too, which the
    modules' own relative imports (`../vendor/idb/...`) ask for."""
    urls = []
    for name in SHELL_STATIC:
        for url in (static(name), f"{settings.STATIC_URL}{name}"):
            if url not in urls:
                urls.append(url)
    return urls


@cache
def _worker_source() -> str:
    """static/driver/sw.js, preceded by the shell to cache and a version that changes with any of it.

    A new version changes the worker's bytes, so browsers install it and drop the old caches.
    """
    digest = hashlib.sha256()
    for name in ("driver/sw.js", *SHELL_STATIC):
        path = finders.find(name)
        if path:
            with open(path, "rb") as file:
                digest.update(file.read())
    with open(finders.find("driver/sw.js"), encoding="utf-8") as file:
        source = file.read()
    config = {
        "version": digest.hexdigest()[:16],
        "shell": [reverse("driver-app"), reverse("driver-manifest"), *_shell_urls()],
        "todayUrl": "/api/driver/today",
    }
    # The worker lives at /driver/sw.js (for its scope), so its import of the queue names the
    # queue's static URL rather than the file's neighbour.
    source = source.replace('from "./queue.js"', f"from {json.dumps(static('driver/queue.js'))}")
    return f"globalThis.WAYPOINT_SW = {json.dumps(config)};\n{source}"


@require_GET
@never_cache
def service_worker(request):
    source = _worker_source() if not settings.DEBUG else _worker_source.__wrapped__()
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    # Served from /driver/, so its scope is /driver/ (the header says so for clarity).
    response["Service-Worker-Allowed"] = reverse("driver-app")
    return response
