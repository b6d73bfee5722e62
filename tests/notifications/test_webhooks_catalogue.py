"""The event catalogue: exceptions and proofs reach merchants too, and docs/webhooks.md shows a
body of every type with exactly the keys the real serializers produce.

To refresh the doc's examples: WEBHOOK_DOCS_EXAMPLES=path pytest this file; it writes them there.
"""

import json
import os
import re
from pathlib import Path

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from accounts.tenancy import Actor
from dispatch.execution.proofs import proof_upload
from notifications.webhooks.catalogue import BY_NAME, EVENT_TYPES, PAYLOAD_VERSION, TEST_EVENT
from tests.clock import START
from tests.factories.proofs import dispatched_route, driver_for, image_bytes, upload
from tests.notifications.webhooks_receiver import Receiver
from tracking.services.exceptions import exception_raise, exception_resolve

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings, tmp_path):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def delivered_stop(hub):
    driver = driver_for(hub, "acme-driver")
    return driver, dispatched_route(hub, driver).stops.select_related("order").get()


def upload_proof(hub, driver, stop):
    proof, _ = proof_upload(
        actor=Actor(organization=hub.organization, user=driver.user),
        driver=driver,
        stop=stop,
        client_id="p-1",
        kind="photo",
        captured_at=START,
        file=upload(image_bytes()),
    )
    return proof


def test_exceptions_about_an_order_and_proofs_reach_the_receiver(
    hub, admin_user, delivered_stop, django_capture_on_commit_callbacks
):
    # given
    from notifications.webhooks.services import webhook_endpoint_create

    receiver = Receiver().start()
    endpoint = webhook_endpoint_create(organization=hub.organization, url=receiver.url, event_types=[])
    receiver.secrets.append(endpoint.secret)
    driver, stop = delivered_stop

    # when
    with django_capture_on_commit_callbacks(execute=True):
        exception = exception_raise(
            organization=hub.organization, kind="late_risk", cause="late:1", message="Running late", order=stop.order
        )
    with django_capture_on_commit_callbacks(execute=True):
        exception_resolve(actor=Actor(organization=hub.organization, user=admin_user), exception=exception, note="ok")
    with django_capture_on_commit_callbacks(execute=True):
        proof = upload_proof(hub, driver, stop)
    receiver.stop()

    # then
    events = receiver.events()
    assert [e["type"] for e in events] == ["exception.raised", "exception.resolved", "proof.added"]
    assert all(r.verified_with == [endpoint.secret] for r in receiver.received)
    assert [e["data"]["exception"]["status"] for e in events[:2]] == ["open", "resolved"]
    assert events[2]["data"]["proof"]["id"] == proof.pk
    assert {e["data"]["order"]["id"] for e in events} == {stop.order_id}


def test_an_exception_about_a_driver_alone_is_not_sent(hub, delivered_stop, django_capture_on_commit_callbacks):
    from notifications.webhooks.services import webhook_endpoint_create

    receiver = Receiver().start()
    webhook_endpoint_create(organization=hub.organization, url=receiver.url, event_types=[])
    driver, _stop = delivered_stop

    with django_capture_on_commit_callbacks(execute=True):
        exception_raise(
            organization=hub.organization, kind="driver_idle", cause="idle:1", message="Idle", driver=driver
        )
    receiver.stop()

    assert receiver.received == []


def _example_payloads(stop, exception, proof) -> dict[str, dict]:
    payloads = {}
    for event_type in EVENT_TYPES:
        if event_type.name.startswith("exception."):
            payloads[event_type.name] = {"exception_id": exception.pk}
        elif event_type.name == "proof.added":
            payloads[event_type.name] = {"proof_id": proof.pk}
        elif event_type.name == "order.created":
            payloads[event_type.name] = {"order_id": stop.order_id}
        else:
            payloads[event_type.name] = {"order_id": stop.order_id, "from": "dispatched", "reason": ""}
    return payloads


def real_bodies(hub, stop, driver) -> dict[str, dict]:
    exception = exception_raise(
        organization=hub.organization, kind="late_risk", cause="late:1", message="Running late", order=stop.order
    )
    proof = upload_proof(hub, driver, stop)
    bodies = {}
    for name, payload in _example_payloads(stop, exception, proof).items():
        data = BY_NAME[name].source(payload).data
        body = {"id": "evt_0", "type": name, "timestamp": START, "version": PAYLOAD_VERSION, "data": data}
        bodies[name] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    bodies[TEST_EVENT] = {
        "id": "evt_0",
        "type": TEST_EVENT,
        "timestamp": START.isoformat(),
        "version": PAYLOAD_VERSION,
        "data": {"message": "A test event from Waypoint.", "endpoint_id": 1},
    }
    return bodies


def key_paths(value, prefix="") -> set[str]:
    if isinstance(value, dict):
        paths = set()
        for key, inner in value.items():
            paths |= {f"{prefix}.{key}"} | key_paths(inner, f"{prefix}.{key}")
        return paths
    return set()


def documented_examples() -> dict[str, dict]:
    text = DOC.read_text()
    return {
        name: json.loads(body)
        for name, body in re.findall(r"^### `([a-z_.]+)`\n(?:(?!^### ).)*?```json\n(.*?)```", text, re.S | re.M)
    }


def test_the_docs_show_an_example_of_every_event_type_with_the_real_keys(hub, delivered_stop):
    driver, stop = delivered_stop
    bodies = real_bodies(hub, stop, driver)
    if target := os.environ.get("WEBHOOK_DOCS_EXAMPLES"):
        Path(target).write_text(
            "\n".join(f"### `{n}`\n\n```json\n{json.dumps(b, indent=2)}\n```\n" for n, b in bodies.items())
        )

    documented = documented_examples()

    assert sorted(documented) == sorted(bodies)
    # order.created shows the whole order; the others show its first fields and point there.
    assert key_paths(documented["order.created"]) == key_paths(bodies["order.created"])
    for name, body in bodies.items():
        assert outside_order(key_paths(documented[name])) == outside_order(key_paths(body)), name
        assert documented[name]["type"] == name


def outside_order(paths: set[str]) -> set[str]:
    return {path for path in paths if not path.startswith(".data.order.")}
