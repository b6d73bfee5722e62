"""Opt-out: each message carries a link, signed for its customer contact and channel, to a page
that records the opt-out; later messages to that contact on that channel are suppressed."""

from django.core import signing
from django.db import transaction
from django.urls import reverse

from accounts.models import Organization
from notifications.models import Channel, OptOut
from notifications.services.rendering import public_url

SALT = "notifications.unsubscribe"


def contact_normalize(*, channel: str, contact: str) -> str:
    """One spelling per contact: addresses compare case-insensitively, numbers without spaces or dashes."""
    contact = contact.strip()
    if channel == Channel.EMAIL:
        return contact.lower()
    return "".join(ch for ch in contact if ch.isdigit() or ch == "+")


def unsubscribe_token(*, organization_id: int, channel: str, contact: str) -> str:
    # No expiry: a link in a months-old email must still work.
    normalized = contact_normalize(channel=channel, contact=contact)
    return signing.dumps({"o": organization_id, "c": channel, "t": normalized}, salt=SALT, compress=True)


def unsubscribe_url(*, organization_id: int, channel: str, contact: str) -> str:
    token = unsubscribe_token(organization_id=organization_id, channel=channel, contact=contact)
    return public_url(reverse("notifications-unsubscribe", args=[token]))


def unsubscribe_read(token: str) -> dict | None:
    """The opt-out a token stands for ({"o": org id, "c": channel, "t": contact}), or None if forged."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") not in Channel.values:
        return None
    return data


def opted_out(*, organization: Organization | int, channel: str, contact: str) -> bool:
    normalized = contact_normalize(channel=channel, contact=contact)
    return OptOut.objects.filter(organization=organization, channel=channel, contact=normalized).exists()


def opted_out_among(*, organization: Organization | int, contacts: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (channel, contact) pairs among `contacts` that opted out, in one query whatever their number."""
    normalized = {(channel, contact_normalize(channel=channel, contact=contact)) for channel, contact in contacts}
    if not normalized:
        return set()
    found = set(
        OptOut.objects.filter(
            organization=organization,
            channel__in={channel for channel, _ in normalized},
            contact__in={contact for _, contact in normalized},
        ).values_list("channel", "contact")
    )
    return {
        (channel, contact)
        for channel, contact in contacts
        if (channel, contact_normalize(channel=channel, contact=contact)) in found
    }


def opt_out_record(*, organization_id: int, channel: str, contact: str) -> OptOut:
    """Record the opt-out (once; a second click changes nothing)."""
    normalized = contact_normalize(channel=channel, contact=contact)
    with transaction.atomic():
        opt_out, _created = OptOut.objects.get_or_create(
            organization_id=organization_id, channel=channel, contact=normalized
        )
    return opt_out
