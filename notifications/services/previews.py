"""A sample of each kind of message, rendered with the organisation's settings, for the preview page."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings as django_settings

from accounts.models import Organization
from common import clock
from notifications.models import Channel, MessageKind
from notifications.rules import notification_settings_get, rules_for
from notifications.services.rendering import (
    customer_reason,
    message_render,
    public_url,
    template_language,
    template_override,
)


@dataclass(frozen=True)
class Preview:
    kind: str
    label: str
    language: str
    channel: str
    enabled: bool
    subject: str
    body: str


def sample_context(organization: Organization, language: str) -> dict:
    start = clock.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    tracking_url = public_url("/t/SAMPLE-TOKEN")
    return {
        "timezone": organization.timezone,
        "organization_name": organization.name,
        "customer_name": "Aino Virtanen",
        "order_reference": "SO-1001",
        "address": "Aleksanterinkatu 52, 00100 Helsinki",
        "delivery_date": start.date(),
        "window_start": start,
        "window_end": start + dt.timedelta(hours=2),
        "tracking_url": tracking_url,
        "reschedule_url": f"{tracking_url}?reschedule=1",
        "delivery_code": "482913",
        "eta": start + dt.timedelta(minutes=40),
        "eta_window_start": start + dt.timedelta(hours=2, minutes=10),
        "eta_window_end": start + dt.timedelta(hours=2, minutes=40),
        "minutes": 10,
        "reason": customer_reason("customer_absent", language),
        "delivered_at": start + dt.timedelta(minutes=35),
        "recipient_name": "Aino Virtanen",
        "proof_signature": True,
        "proof_photo": True,
        "proof_code": False,
        "unsubscribe_url": f"{django_settings.WAYPOINT_PUBLIC_URL}/notifications/unsubscribe/SAMPLE",
    }


def message_previews(*, organization: Organization, language: str | None = None) -> list[Preview]:
    settings = notification_settings_get(organization=organization)
    rules = rules_for(organization=organization)
    previews = []
    for kind, label in MessageKind.choices:
        chosen = template_language(kind=kind, language=language or settings.language)
        context = sample_context(organization, chosen)
        override = template_override(organization_id=organization.pk, kind=kind, language=chosen)
        for channel in Channel.values:
            subject, body, _html = message_render(
                kind=kind, channel=channel, language=chosen, context=context, override=override
            )
            previews.append(Preview(kind, label, chosen, channel, rules[(kind, channel)], subject, body))
    return previews
