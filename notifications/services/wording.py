"""An organisation's own wording of a kind of message, per language (MessageTemplate)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Organization
from common import clock
from notifications.models import MessageTemplate
from notifications.services.rendering import template_source_check


def message_template_save(
    *, organization: Organization, kind: str, language: str, subject: str, text: str, sms: str
) -> MessageTemplate | None:
    """Save the wording; all three parts blank goes back to the defaults (returns None)."""
    parts = {"subject": subject.strip(), "text": text.strip(), "sms": sms.strip()}
    errors = {name: problem for name, source in parts.items() if source and (problem := template_source_check(source))}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = MessageTemplate.objects.filter(organization=organization, kind=kind, language=language)
        if not any(parts.values()):
            existing.delete()
            return None
        template, _created = MessageTemplate.objects.update_or_create(
            organization=organization, kind=kind, language=language, defaults={**parts, "updated_at": clock.now()}
        )
    return template
