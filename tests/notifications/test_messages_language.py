"""Customers are written to in their order's language; an order without one gets the
organisation's, and a language without templates falls back to the organisation's, then English."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from common.languages import CUSTOMER_LANGUAGE_CODES
from dispatch.execution.services import stops as execution
from notifications.models import Message, NotificationSettings
from orders.models import Order
from orders.services import order_cancel
from tests.clock import START
from tests.notifications.conftest import EMAIL, emails_to

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("organization_language", "order_language", "written_in"),
    [
        pytest.param("en", "fi", "fi", id="the-orders-language-wins"),
        pytest.param("fi", "en", "en", id="english-in-a-finnish-organisation"),
        pytest.param("fi", "", "fi", id="none-is-the-organisations"),
        # The API refuses such a language; an order stored before a language's templates were
        # removed still reads in one Waypoint has.
        pytest.param("fi", "sv", "fi", id="without-templates-the-organisations"),
        pytest.param("sv", "sv", "en", id="then-english"),
    ],
)
def test_a_customer_is_written_to_in_the_orders_language_else_the_organisations_else_english(
    organization,
    dispatcher_actor,
    make_stop,
    django_capture_on_commit_callbacks,
    organization_language,
    order_language,
    written_in,
):
    NotificationSettings.objects.create(organization=organization, language=organization_language)
    stop = make_stop(language=order_language)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    assert Message.objects.get().language == written_in
    assert mail.outbox[0].subject == SUBJECTS[written_in].format(reference=stop.order.merchant_reference)


SUBJECTS = {"en": "Your delivery {reference} is cancelled", "fi": "Toimituksesi {reference} on peruttu"}


def test_the_failure_reason_is_in_the_orders_language(
    driver_actor, driver, make_stop, django_capture_on_commit_callbacks
):
    stop = make_stop(status="arrived", language="fi")
    Order.objects.filter(pk=stop.order_id).update(status="arrived")

    with django_capture_on_commit_callbacks(execute=True):
        execution.stop_fail(actor=driver_actor, stop=stop, at=START, reason="customer_absent", driver=driver)

    assert "emme tavoittaneet ketään kotoa" in emails_to(EMAIL)[0].body


def test_the_languages_orders_accept_are_the_ones_with_message_templates():
    folders = Path(settings.BASE_DIR) / "templates" / "notifications" / "messages"

    assert sorted(CUSTOMER_LANGUAGE_CODES) == sorted(path.name for path in folders.iterdir() if path.is_dir())
