"""The webhooks API: endpoints managed by admins, secrets shown once, the delivery log, replays,
test events, and field-level 4xx answers."""

import datetime as dt

import pytest
from standardwebhooks import Webhook

from common import clock
from notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db
ENDPOINTS = "/api/webhooks/endpoints"


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True


def register(client_, receiver, **fields):
    response = client_.post(ENDPOINTS, {"url": receiver.url, **fields}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    receiver.secrets.append(body["secret"])
    return body


def test_an_admin_registers_an_endpoint_and_sees_its_secret_only_once(admin_client, receiver):
    created = register(admin_client, receiver, event_types=["order.delivered", "order.created"], description="Shop")

    assert created["secret"].startswith("whsec_")
    assert Webhook(created["secret"])  # the reference library accepts it
    assert created["event_types"] == ["order.created", "order.delivered"]
    shown = admin_client.get(f"{ENDPOINTS}/{created['id']}").json()
    assert "secret" not in shown
    listed = admin_client.get(ENDPOINTS).json()["results"]
    assert [e["id"] for e in listed] == [created["id"]]
    assert all("secret" not in e for e in listed)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "not a url"}, "url", "Enter a valid URL."),
        ({"url": "ftp://example.com/hooks"}, "url", "Use an http:// or https:// URL with a host name."),
        (
            {"url": "https://example.com", "event_types": ["order.teleported"]},
            "event_types[0]",
            '"order.teleported" is not a valid choice.',
        ),
        ({"event_types": []}, "url", "This field is required."),
    ],
    ids=["not-a-url", "not-http", "unknown-event-type", "no-url"],
)
def test_an_invalid_endpoint_is_refused_naming_the_field(admin_client, body, field, message):
    response = admin_client.post(ENDPOINTS, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert WebhookEndpoint.objects.count() == 0


def test_a_private_address_is_refused_at_registration_in_production_mode(admin_client, settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = False

    for url in ("http://127.0.0.1:9/hooks", "http://10.1.2.3/hooks", "http://169.254.169.254/latest", "http://[::1]/"):
        response = admin_client.post(ENDPOINTS, {"url": url}, format="json")

        assert response.status_code == 400, url
        assert response.json()["errors"]["url"][0].startswith("Webhooks cannot be sent to private networks")
    assert WebhookEndpoint.objects.count() == 0


def test_dispatchers_read_endpoints_but_only_admins_change_them_and_viewers_see_nothing(
    admin_client, dispatcher_client, viewer_client, receiver
):
    created = register(admin_client, receiver)

    assert dispatcher_client.get(ENDPOINTS).status_code == 200
    refused = dispatcher_client.patch(f"{ENDPOINTS}/{created['id']}", {"active": False}, format="json")
    assert refused.status_code == 403
    assert viewer_client.get(ENDPOINTS).status_code == 403
    assert WebhookEndpoint.objects.get().active is True


def test_another_organizations_endpoint_is_not_found(admin_client, other_organization, receiver):
    from notifications.webhooks.services import webhook_endpoint_create

    theirs = webhook_endpoint_create(organization=other_organization, url=receiver.url, event_types=[])

    assert admin_client.get(f"{ENDPOINTS}/{theirs.pk}").status_code == 404
    assert admin_client.post(f"{ENDPOINTS}/{theirs.pk}/test").status_code == 404
    assert admin_client.delete(f"{ENDPOINTS}/{theirs.pk}").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


def test_a_test_event_is_sent_signed_and_logged(admin_client, receiver, django_capture_on_commit_callbacks):
    created = register(admin_client, receiver)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{ENDPOINTS}/{created['id']}/test")

    assert response.status_code == 202
    [request] = receiver.received
    assert request.verified_with == [created["secret"]]
    assert request.event["type"] == "webhook.test"
    log = admin_client.get(f"{ENDPOINTS}/{created['id']}/deliveries").json()["results"]
    assert [(d["event_id"], d["status"], d["attempts"]) for d in log] == [(request.event["id"], "delivered", 1)]
    [attempt] = log[0]["attempt_log"]
    assert (attempt["number"], attempt["response_status"], attempt["succeeded"]) == (1, 200, True)


def test_during_a_rotation_requests_verify_with_the_old_and_the_new_secret_until_the_overlap_ends(
    admin_client, receiver, django_capture_on_commit_callbacks, time_machine
):
    # given
    created = register(admin_client, receiver)
    old = created["secret"]

    # when
    rotated = admin_client.post(f"{ENDPOINTS}/{created['id']}/rotate-secret", {"overlap_hours": 2}, format="json")
    new = rotated.json()["secret"]
    receiver.secrets.append(new)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{ENDPOINTS}/{created['id']}/test")
    time_machine.shift(dt.timedelta(hours=2, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{ENDPOINTS}/{created['id']}/test")

    # then
    assert rotated.status_code == 200
    assert new != old
    during, after = receiver.received
    assert during.verified_with == [old, new]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified_with == [new]
    assert len(after.headers["webhook-signature"].split(" ")) == 1


def test_replaying_one_event_and_everything_since_a_time_resends_them_with_their_ids(
    admin_client, merchant_client, hub, receiver, django_capture_on_commit_callbacks, time_machine
):
    # given: three orders, an hour apart, delivered
    created = register(admin_client, receiver, event_types=["order.created"])
    moments = []
    for n in range(3):
        moments.append(clock.now())
        with django_capture_on_commit_callbacks(execute=True):
            merchant_client.post("/api/orders", order_payload(f"SO-{n}"), format="json")
        time_machine.shift(dt.timedelta(hours=1))
    first_ids = [r.headers["webhook-id"] for r in receiver.received]
    replay = f"{ENDPOINTS}/{created['id']}/replay"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        one = admin_client.post(replay, {"event_id": first_ids[0]}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        since = admin_client.post(replay, {"since": moments[1].isoformat()}, format="json")

    # then
    assert (one.status_code, one.json()["replayed"]) == (202, 1)
    assert (since.status_code, since.json()["replayed"]) == (202, 2)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    # Three orders: their events are sent a few at once, so they may arrive in any order.
    assert ids[:4] == [*first_ids, first_ids[0]]
    assert sorted(ids[4:]) == sorted(first_ids[1:])
    assert all(r.verified_with for r in receiver.received)
    assert WebhookEvent.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "event_id"), ({"event_id": "evt_x", "since": "2026-11-30T08:00:00Z"}, "event_id"), ({"since": "x"}, "since")],
    ids=["neither", "both", "bad-time"],
)
def test_a_replay_needs_one_event_or_one_time(admin_client, receiver, body, field):
    created = register(admin_client, receiver)

    response = admin_client.post(f"{ENDPOINTS}/{created['id']}/replay", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert WebhookDelivery.objects.count() == 0


def test_replaying_an_unknown_event_or_to_a_disabled_endpoint_is_refused(admin_client, receiver):
    created = register(admin_client, receiver)
    url = f"{ENDPOINTS}/{created['id']}"

    unknown = admin_client.post(f"{url}/replay", {"event_id": "evt_nope"}, format="json")
    admin_client.patch(url, {"active": False}, format="json")
    disabled = admin_client.post(f"{url}/replay", {"since": "2026-11-30T08:00:00Z"}, format="json")

    assert (unknown.status_code, unknown.json()["code"]) == (404, "webhook_event_not_found")
    assert (disabled.status_code, disabled.json()["code"]) == (409, "webhook_endpoint_disabled")
    assert WebhookDelivery.objects.count() == 0


def test_the_delivery_log_filters_by_status_and_event_type(
    admin_client, merchant_client, hub, receiver, django_capture_on_commit_callbacks
):
    created = register(admin_client, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post("/api/orders", order_payload("SO-1"), format="json")
        admin_client.post(f"{ENDPOINTS}/{created['id']}/test")
    log = f"{ENDPOINTS}/{created['id']}/deliveries"

    tests = admin_client.get(log, {"event_type": "webhook.test"}).json()["results"]
    delivered = admin_client.get(log, {"status": "delivered"}).json()["results"]
    failed = admin_client.get(log, {"status": "failed"}).json()["results"]
    bad = admin_client.get(log, {"status": "lost"})

    assert [d["event_type"] for d in tests] == ["webhook.test"]
    assert sorted(d["event_type"] for d in delivered) == ["order.created", "webhook.test"]
    assert failed == []
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


def test_a_read_write_api_key_manages_endpoints_and_a_read_only_key_only_reads(organization, merchant_client, receiver):
    from rest_framework.test import APIClient

    from accounts.services import api_key_create

    _, raw = api_key_create(organization=organization, created_by=None, name="Reporting", scope="read")
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    created = merchant_client.post(ENDPOINTS, {"url": receiver.url}, format="json")
    refused = reader.post(ENDPOINTS, {"url": receiver.url}, format="json")

    assert created.status_code == 201
    assert (refused.status_code, refused.json()["message"]) == (403, "This API key is read-only.")
    assert [e["id"] for e in reader.get(ENDPOINTS).json()["results"]] == [created.json()["id"]]
    assert WebhookEndpoint.objects.count() == 1


def test_switching_a_disabled_endpoint_on_again_clears_why_it_was_disabled(admin_client, receiver):
    created = register(admin_client, receiver)
    WebhookEndpoint.objects.filter(pk=created["id"]).update(
        active=False, disabled_reason="Disabled automatically", consecutive_failures=8, disabled_at=clock.now()
    )

    response = admin_client.patch(f"{ENDPOINTS}/{created['id']}", {"active": True}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert (body["active"], body["disabled_reason"], body["consecutive_failures"], body["disabled_at"]) == (
        True,
        "",
        0,
        None,
    )
