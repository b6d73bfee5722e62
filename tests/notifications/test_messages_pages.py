"""Ops read the message log per organisation (filtered) and per order on the tower's order page,
and preview each kind of message."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Organization
from notifications.models import Message, MessageKind, MessageTemplate, NotificationRule, NotificationSettings
from notifications.rules import notification_settings_get, rules_for
from orders.services import order_cancel
from tests.factories.fleet import OrderFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cancelled(dispatcher_actor, make_stop, django_capture_on_commit_callbacks):
    """Two cancelled orders, an email about each (cancelled goes by email only by default)."""
    first, second = make_stop(), make_stop()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=first.order, reason="customer asked")
        order_cancel(actor=dispatcher_actor, order=second.order, reason="customer asked")
    return first.order, second.order


def test_the_message_log_lists_the_organisations_messages_filtered(viewer_user, cancelled, hub):
    first, second = cancelled
    other = Organization.objects.create(name="Other", slug="other")
    Message.objects.create(
        organization=other,
        order=OrderFactory(hub=hub, organization=other),
        kind=MessageKind.CANCELLED,
        channel="email",
        recipient="someone@else.example",
        language="en",
        body="not yours",
        dedupe_key="other-org",
    )
    client = signed_in(viewer_user)

    everything = client.get("/notifications/messages/").content.decode()
    one_order = client.get(f"/notifications/messages/?order={first.merchant_reference}").content.decode()
    sms = client.get("/notifications/messages/?channel=sms").content.decode()

    assert everything.count('data-testid="message-row"') == 2
    assert "someone@else.example" not in everything
    assert one_order.count('data-testid="message-row"') == 1
    assert f">{first.merchant_reference}<" in one_order
    assert sms.count('data-testid="message-row"') == 0


def test_the_navigation_links_the_message_log_for_office_roles_only(viewer_user, driver_user):
    assert 'href="/notifications/messages/"' in signed_in(viewer_user).get("/orders/").content.decode()
    assert signed_in(driver_user).get("/notifications/messages/").status_code == 403


def test_the_tower_order_page_shows_the_orders_messages(dispatcher_user, cancelled):
    first, _second = cancelled

    page = signed_in(dispatcher_user).get(f"/tower/orders/{first.pk}/").content.decode()

    assert 'data-testid="order-messages"' in page
    assert page.count('data-testid="order-message"') == 1
    assert "aino@example.fi" in page


@pytest.mark.parametrize(("language", "subject"), [("en", "is on its way"), ("fi", "on matkalla")])
def test_the_preview_renders_every_kind_on_both_channels(viewer_user, language, subject):
    page = signed_in(viewer_user).get(f"/notifications/preview/?language={language}").content.decode()

    assert page.count('data-testid="preview"') == len(MessageKind.values) * 2
    assert subject in page


def test_an_admin_switches_rules_and_sets_quiet_hours_from_the_settings_page(admin_user, organization):
    client = signed_in(admin_user)
    form = {"language": "fi", "quiet_hours_start": "22:00", "quiet_hours_end": "07:00", "arriving_soon_minutes": "15"}
    form["rule:cancelled:sms"] = "on"  # every other box unticked: all else off

    response = client.post("/notifications/settings/", form)

    assert response.status_code == 302
    rules = rules_for(organization=organization)
    assert [key for key, enabled in rules.items() if enabled] == [("cancelled", "sms")]
    saved = notification_settings_get(organization=organization)
    assert (saved.language, saved.quiet_hours_start, saved.quiet_hours_end, saved.arriving_soon_minutes) == (
        "fi",
        dt.time(22),
        dt.time(7),
        15,
    )
    page = client.get("/notifications/settings/").content.decode()
    assert re.findall(r'name="(rule:[a-z_]+:[a-z]+)"[^>]*checked', page) == ["rule:cancelled:sms"]


def test_half_quiet_hours_are_refused_and_nothing_changes(admin_user, organization):
    form = {"language": "en", "quiet_hours_start": "22:00", "arriving_soon_minutes": "10"}

    response = signed_in(admin_user).post("/notifications/settings/", form)

    assert "Give both ends of the quiet hours, or neither." in response.content.decode()
    assert NotificationSettings.objects.count() == 0
    assert NotificationRule.objects.count() == 0


def test_only_admins_open_the_settings(dispatcher_user):
    assert signed_in(dispatcher_user).get("/notifications/settings/").status_code == 403


def test_an_admins_own_wording_replaces_the_default_in_later_messages(
    admin_user, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    client = signed_in(admin_user)
    wording = {"subject": "Order {{ order_reference }} called off", "text": "", "sms": ""}

    saved = client.post("/notifications/templates/cancelled/en/", wording)
    stop = make_stop()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    assert saved.status_code == 302
    [email] = mail.outbox
    assert email.subject == f"Order {stop.order.merchant_reference} called off"
    assert email.body.startswith("Hello Aino Virtanen,")  # the text part kept its default
    page = client.get("/notifications/templates/cancelled/en/").content.decode()
    assert "Order SO-1001 called off" in page  # the preview with sample data


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{% load static %}{% static 'x' %}", "Tags that load libraries or other templates"),
        ("{% include 'base.html' %}", "Tags that load libraries or other templates"),
        ("{% if %}", "Template error"),
    ],
    ids=["load", "include", "syntax"],
)
def test_wording_that_is_not_a_safe_template_is_refused(admin_user, source, problem):
    response = signed_in(admin_user).post("/notifications/templates/cancelled/en/", {"text": source})

    assert problem in response.content.decode()
    assert MessageTemplate.objects.count() == 0


def test_only_admins_edit_the_wording(dispatcher_user):
    assert signed_in(dispatcher_user).get("/notifications/templates/cancelled/en/").status_code == 403


def test_a_message_opens_with_its_whole_text_for_its_organisation_only(viewer_user, cancelled):
    message = Message.objects.get(order=cancelled[0])
    client = signed_in(viewer_user)

    page = client.get(f"/notifications/messages/{message.pk}/").content.decode()
    Message.objects.filter(pk=message.pk).update(organization=Organization.objects.create(name="Other", slug="o"))

    assert f'data-testid="message-subject">{message.subject}<' in page
    assert "To stop these emails:" in page
    assert client.get(f"/notifications/messages/{message.pk}/").status_code == 404
