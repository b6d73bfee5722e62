"""The driver app's pages: the shell for drivers only, its manifest, its service worker, Finnish."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from dispatch.execution.views import FAILURE_REASON_LABELS, SHELL_STATIC
from dispatch.models import FailureReason

pytestmark = pytest.mark.django_db


def _browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_a_driver_gets_the_app_shell_with_its_settings(driver, driver_user, settings):
    settings.WAYPOINT_DRIVER_POSITION_INTERVAL_S = 7

    response = _browser(driver_user).get("/driver/")

    html = response.content.decode()
    config = _json_script(html, "driver-config")
    assert response.status_code == 200
    assert (config["positionIntervalS"], config["timeZone"], config["user"]) == (7, "Europe/Helsinki", driver_user.pk)
    assert (config["todayUrl"], config["actionsUrl"], config["proofsUrl"]) == (
        "/api/driver/today",
        "/api/driver/actions",
        "/api/driver/proofs",
    )
    assert [r["value"] for r in _json_script(html, "driver-reasons")] == list(FailureReason.values)
    assert '<link rel="manifest" href="/driver/manifest.webmanifest">' in html
    assert 'src="/static/driver/app.js"' in html


@pytest.mark.parametrize("role_user", ["admin_user", "dispatcher_user", "viewer_user"])
def test_the_office_cannot_open_the_driver_app(request, role_user):
    assert _browser(request.getfixturevalue(role_user)).get("/driver/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in():
    response = _browser().get("/driver/")

    assert (response.status_code, response["Location"]) == (302, "/login/?next=/driver/")


def test_the_manifest_is_public_and_installs_the_app_at_driver():
    response = _browser().get("/driver/manifest.webmanifest")

    body = response.json()
    assert response["Content-Type"] == "application/manifest+json"
    assert (body["start_url"], body["scope"], body["display"], body["orientation"]) == (
        "/driver/",
        "/driver/",
        "standalone",
        "portrait",
    )
    assert [icon["sizes"] for icon in body["icons"]] == ["192x192", "512x512", "any"]
    for icon in body["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")) is not None


def test_the_service_worker_is_never_cached_and_knows_its_shell():
    response = _browser().get("/driver/sw.js")

    source = response.content.decode()
    first_line, _rest = source.split("\n", 1)
    config = json.loads(first_line.removeprefix("globalThis.WAYPOINT_SW = ").removesuffix(";"))
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/driver/"
    assert "no-cache" in response["Cache-Control"]
    assert 'from "/static/driver/queue.js"' in source
    assert config["shell"][:2] == ["/driver/", "/driver/manifest.webmanifest"]
    assert config["todayUrl"] == "/api/driver/today"
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    # Every file the worker stores on install exists, the npm libraries included (make install).
    assert [name for name in SHELL_STATIC if finders.find(name) is None] == []


def test_the_app_speaks_finnish_to_a_finnish_browser_and_english_otherwise(driver, driver_user):
    browser = _browser(driver_user)

    finnish = browser.get("/driver/", HTTP_ACCEPT_LANGUAGE="fi-FI,fi;q=0.9,en;q=0.5").content.decode()
    english = browser.get("/driver/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()

    assert '<html lang="fi">' in finnish
    assert "Aloita vuoro" in finnish
    assert _json_script(finnish, "driver-strings")["offline"] == "Ei yhteyttä"
    assert _json_script(finnish, "driver-reasons")[0] == {"value": "customer_absent", "label": "Asiakas ei kotona"}
    assert '<html lang="en">' in english
    assert "Start shift" in english
    assert _json_script(english, "driver-strings")["offline"] == "Offline"


def test_every_failure_reason_label_is_in_the_catalogue():
    assert list(FAILURE_REASON_LABELS) == list(FailureReason.labels)
