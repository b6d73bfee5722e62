"""The admins' webhooks page: add an endpoint, see its secret once, test, rotate, replay, read the log."""

import pytest
from django.test import Client

from notifications.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_adds_an_endpoint_sees_the_secret_once_and_a_test_event_in_the_log(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    # given
    page = browser(admin_user)

    # when
    added = page.post("/settings/webhooks/", {"url": receiver.url, "description": "Shop", "active": "on"}, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    receiver.secrets.append(endpoint.secret)
    again = page.get(f"/settings/webhooks/{endpoint.pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        page.post(f"/settings/webhooks/{endpoint.pk}/test")
    log = page.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()

    # then
    assert endpoint.secret in added.content.decode()
    assert endpoint.secret not in again.content.decode()
    [request] = receiver.received
    assert request.verified_with == [endpoint.secret]
    assert request.event["id"] in log
    assert ">delivered<" in log


def test_rotating_on_the_page_shows_the_new_secret_and_keeps_the_old_one_signing(admin_user, receiver):
    page = browser(admin_user)
    page.post("/settings/webhooks/", {"url": receiver.url, "active": "on"})
    endpoint = WebhookEndpoint.objects.get()
    old = endpoint.secret

    shown = page.post(f"/settings/webhooks/{endpoint.pk}/rotate", {"overlap_hours": "6"}, follow=True)

    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert endpoint.secret in shown.content.decode()


def test_a_private_address_is_refused_on_the_page_in_production_mode(admin_user, settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = False

    answer = browser(admin_user).post("/settings/webhooks/", {"url": "http://127.0.0.1:8000/hooks", "active": "on"})

    assert answer.status_code == 200
    assert "Webhooks cannot be sent to private networks" in answer.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_only_admins_open_the_webhooks_page(dispatcher_user, viewer_user):
    assert browser(dispatcher_user).get("/settings/webhooks/").status_code == 403
    assert browser(viewer_user).get("/settings/webhooks/").status_code == 403


def test_the_replay_button_sends_the_event_again_and_the_log_filters_by_status(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    page = browser(admin_user)
    page.post("/settings/webhooks/", {"url": receiver.url, "active": "on"})
    endpoint = WebhookEndpoint.objects.get()
    receiver.secrets.append(endpoint.secret)
    with django_capture_on_commit_callbacks(execute=True):
        page.post(f"/settings/webhooks/{endpoint.pk}/test")
    event_id = receiver.received[0].headers["webhook-id"]

    with django_capture_on_commit_callbacks(execute=True):
        page.post(f"/settings/webhooks/{endpoint.pk}/replay", {"event_id": event_id})
    page.get(f"/settings/webhooks/{endpoint.pk}/")  # shows (and so clears) the "queued again" notice
    failed_only = page.get(f"/settings/webhooks/{endpoint.pk}/", {"status": "failed"}).content.decode()

    assert [r.headers["webhook-id"] for r in receiver.received] == [event_id, event_id]
    assert all(r.verified_with == [endpoint.secret] for r in receiver.received)
    assert event_id not in failed_only
    assert "Nothing sent yet." in failed_only
