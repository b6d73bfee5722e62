from django.db.models import QuerySet

from accounts.models import Organization
from notifications.models import Message


def message_list(*, organization: Organization, filters: dict | None = None) -> QuerySet[Message]:
    """The organisation's messages, newest first; `filters` may name status, kind, channel and order."""
    messages = Message.objects.filter(organization=organization).select_related("order")
    filters = filters or {}
    for field in ("status", "kind", "channel"):
        if filters.get(field):
            messages = messages.filter(**{field: filters[field]})
    if reference := (filters.get("order") or "").strip():
        messages = messages.filter(order__merchant_reference=reference)
    return messages


def order_messages(*, organization: Organization, order) -> QuerySet[Message]:
    return Message.objects.filter(organization=organization, order=order).order_by("created_at", "id")


def message_get(*, organization: Organization, message_id: int) -> Message | None:
    return message_list(organization=organization).filter(pk=message_id).first()
