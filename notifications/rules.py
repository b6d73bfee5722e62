"""What an organisation wants sent: kinds on or off per channel, quiet hours, arriving-soon lead time."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction

from accounts.models import Organization
from notifications.models import DEFAULT_RULES, Channel, MessageKind, NotificationRule, NotificationSettings

# Sent whatever the hour: each is about a delivery happening now (the one-time code travels with
# "out for delivery"), so holding it until morning would deliver it after the fact.
URGENT_KINDS = frozenset({MessageKind.OUT_FOR_DELIVERY, MessageKind.ARRIVING_SOON, MessageKind.DELAYED})


def notification_settings_get(*, organization: Organization) -> NotificationSettings:
    """The organisation's settings; an unsaved row with the defaults when it has none."""
    found = NotificationSettings.objects.filter(organization=organization).first()
    return found or NotificationSettings(organization=organization)


def rules_for(*, organization: Organization) -> dict[tuple[str, str], bool]:
    """Every (kind, channel) with whether it is on: the organisation's rows over DEFAULT_RULES."""
    rules = dict(DEFAULT_RULES)
    for kind, channel, enabled in NotificationRule.objects.filter(organization=organization).values_list(
        "kind", "channel", "enabled"
    ):
        rules[(kind, channel)] = enabled
    return rules


def channels_for(*, organization: Organization, kind: str) -> list[str]:
    rules = rules_for(organization=organization)
    return [channel for channel in Channel.values if rules.get((kind, channel), False)]


def rule_set(*, organization: Organization, kind: str, channel: str, enabled: bool) -> NotificationRule:
    rule, _created = NotificationRule.objects.update_or_create(
        organization=organization, kind=kind, channel=channel, defaults={"enabled": enabled}
    )
    return rule


def quiet_until(*, settings: NotificationSettings, timezone: str, kind: str, at: dt.datetime) -> dt.datetime | None:
    """When quiet hours covering `at` end (aware), or None when `at` is not quiet for `kind`."""
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if kind in URGENT_KINDS or start is None or end is None or start == end:
        return None
    local = at.astimezone(ZoneInfo(timezone))
    moment = local.time()
    quiet = start <= moment < end if start < end else moment >= start or moment < end
    if not quiet:
        return None
    day = local.date() if moment < end else local.date() + dt.timedelta(days=1)
    # Built in the zone so a night across a daylight-saving change still ends at the wall-clock time.
    return dt.datetime.combine(day, end, tzinfo=ZoneInfo(timezone))


def notification_settings_update(
    *,
    organization: Organization,
    language: str,
    quiet_hours_start: dt.time | None,
    quiet_hours_end: dt.time | None,
    arriving_soon_minutes: int,
    rules: dict[tuple[str, str], bool],
) -> NotificationSettings:
    """Save the organisation's settings and every (kind, channel) switch in `rules`."""
    with transaction.atomic():
        settings = notification_settings_get(organization=organization)
        settings.language = language
        settings.quiet_hours_start, settings.quiet_hours_end = quiet_hours_start, quiet_hours_end
        settings.arriving_soon_minutes = arriving_soon_minutes
        settings.full_clean()
        settings.save()
        for (kind, channel), enabled in rules.items():
            rule_set(organization=organization, kind=kind, channel=channel, enabled=enabled)
    return settings
