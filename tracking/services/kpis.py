"""The day's KPIs pushed to the control tower (after commit)."""

from accounts.models import Organization
from common.realtime import tower_publish
from tracking.selectors.tower import kpis_for_day, organization_today
from tracking.serializers import KpisMessageSerializer


def kpis_publish(*, organization_id: int) -> None:
    organization = Organization.objects.get(pk=organization_id)
    day = organization_today(organization)
    kpis = kpis_for_day(organization=organization, day=day)
    tower_publish(organization_id, KpisMessageSerializer({"date": day, "kpis": kpis}).data)
