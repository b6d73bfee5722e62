"""The receiver example of docs/webhooks.md works against Waypoint's real requests."""

import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from notifications.models import WebhookDelivery
from notifications.webhooks.services import webhook_endpoint_create, webhook_replay_event, webhook_test_send
from tests.servers import free_port

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def doc_receiver(secrets: list[str], monkeypatch) -> dict:
    code = re.search(r"## A receiver in Python\n\n```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    monkeypatch.setenv("WAYPOINT_WEBHOOK_SECRETS", " ".join(secrets))
    namespace = {"__name__": "receiver"}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 - the doc's own example
    return namespace


def test_the_documented_receiver_accepts_waypoints_requests_once_each_and_refuses_forged_ones(
    organization, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given: the doc's receiver, holding the secret of one of two endpoints pointing at it
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    ours = webhook_endpoint_create(organization=organization, url=url, event_types=[])
    forged = webhook_endpoint_create(organization=organization, url=url, event_types=[])
    receiver = doc_receiver([ours.secret], monkeypatch)
    handled = []
    receiver["handle"] = handled.append
    server = ThreadingHTTPServer(("127.0.0.1", port), receiver["WaypointReceiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # when
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sent = webhook_test_send(endpoint=ours)
            webhook_test_send(endpoint=forged)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_replay_event(endpoint=ours, event_id=sent.event.event_id)
    finally:
        server.shutdown()
        server.server_close()

    # then
    assert [event["id"] for event in handled] == [sent.event.event_id]
    answers = {d.endpoint_id: (d.status, d.last_response_status) for d in WebhookDelivery.objects.all()}
    assert answers == {ours.pk: ("delivered", 204), forged.pk: ("pending", 401)}
