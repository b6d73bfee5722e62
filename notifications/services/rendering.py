"""Messages as Django templates, one per kind and language (templates/notifications/messages/).

Each template renders one part at a time, chosen by the `part` variable: "subject", "text" (the
plain-text email) or "sms". The email's HTML part wraps the text in templates/notifications/email.html.
The variables are documented in docs/notifications.md.
"""

import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Template, TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from notifications.models import Channel, MessageTemplate

FALLBACK_LANGUAGE = "en"
# The failure taxonomy (dispatch FailureReason) in the customer's words.
CUSTOMER_REASONS = {
    "en": {
        "customer_absent": "we could not find anyone at home",
        "address_wrong": "we could not find the address",
        "refused": "the parcel was refused at the door",
        "damaged": "the parcel was damaged on the way",
        "no_safe_place": "there was no safe place to leave the parcel",
        "access_restricted": "we could not get to the door",
        "out_of_time": "the driver ran out of time today",
        "vehicle_issue": "the delivery vehicle broke down",
    },
    "fi": {
        "customer_absent": "emme tavoittaneet ketään kotoa",
        "address_wrong": "emme löytäneet osoitetta",
        "refused": "lähetyksen vastaanotosta kieltäydyttiin",
        "damaged": "lähetys vahingoittui matkalla",
        "no_safe_place": "lähetykselle ei löytynyt turvallista jättöpaikkaa",
        "access_restricted": "emme päässeet ovelle asti",
        "out_of_time": "kuljettajan aika loppui tänään kesken",
        "vehicle_issue": "jakeluauto hajosi",
    },
}
OTHER_REASON = {"en": "something prevented the delivery", "fi": "jokin esti toimituksen"}


def customer_reason(code: str, language: str) -> str:
    words = CUSTOMER_REASONS.get(language, CUSTOMER_REASONS[FALLBACK_LANGUAGE])
    return words.get(code) or OTHER_REASON.get(language, OTHER_REASON[FALLBACK_LANGUAGE])


def template_language(*, kind: str, language: str) -> str:
    """`language` when a template of `kind` exists in it, else English."""
    return language if _has_template(kind, language) else FALLBACK_LANGUAGE


def customer_language(*, kind: str, order_language: str, organization_language: str) -> str:
    """What a customer is written to in: the order's language, else the organisation's, else
    English (the first of them that has a template of `kind`)."""
    for language in (order_language, organization_language):
        if language and _has_template(kind, language):
            return language
    return FALLBACK_LANGUAGE


def _has_template(kind: str, language: str) -> bool:
    try:
        get_template(f"notifications/messages/{language}/{kind}.txt")
    except TemplateDoesNotExist:
        return False
    return True


def message_render(
    *, kind: str, channel: str, language: str, context: dict, override: MessageTemplate | None = None
) -> tuple[str, str, str]:
    """(subject, body, html body) for one channel; an SMS has only a body.

    `override` is the organisation's own wording: each part it gives replaces the default's.
    """
    name = f"notifications/messages/{language}/{kind}.txt"
    # Times read in the organisation's timezone, whatever the worker's.
    with translation.override(language), timezone.override(ZoneInfo(context["timezone"])):
        if channel == Channel.SMS:
            return "", _part(name, "sms", context, override), ""
        subject = " ".join(_part(name, "subject", context, override).split())
        text = _part(name, "text", context, override)
        html = render_to_string(
            "notifications/email.html",
            {**context, "subject": subject, "text": text, "language": language},
        )
    return subject, text, html


def _part(name: str, part: str, context: dict, override: MessageTemplate | None) -> str:
    if override is not None and (source := getattr(override, part).strip()):
        # Plain text: the HTML part escapes it when it wraps it.
        return Template(f"{{% autoescape off %}}{source}{{% endautoescape %}}").render(Context(context)).strip()
    return render_to_string(name, {**context, "part": part}).strip()


# An organisation's wording may use variables and filters, not reach other templates or libraries.
FORBIDDEN_TAGS = re.compile(r"{%\s*(load|include|extends|ssi|debug|block)\b")


def template_source_check(source: str) -> str | None:
    """Why `source` cannot be an organisation's message part, or None when it can."""
    if FORBIDDEN_TAGS.search(source):
        return (
            "Tags that load libraries or other templates (load, include, extends, block, ssi, debug) are not allowed."
        )
    try:
        Template(source)
    except TemplateSyntaxError as error:
        return f"Template error: {error}"
    return None


def template_override(*, organization_id: int, kind: str, language: str) -> MessageTemplate | None:
    return MessageTemplate.objects.filter(organization_id=organization_id, kind=kind, language=language).first()


def template_overrides(*, organization_id: int, kind: str, languages: set[str]) -> dict[str, MessageTemplate]:
    """The organisation's own wordings of `kind` in each of `languages` that has one, in one query."""
    found = MessageTemplate.objects.filter(organization_id=organization_id, kind=kind, language__in=languages)
    return {template.language: template for template in found}


def public_url(path: str) -> str:
    return f"{settings.WAYPOINT_PUBLIC_URL}{path}"
