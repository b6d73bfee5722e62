from django.db.models import QuerySet

from dispatch.models import Driver, Hub, Vehicle


def hub_list(*, organization) -> QuerySet[Hub]:
    return Hub.objects.filter(organization=organization)


def hub_by_code(*, organization) -> dict[str, Hub]:
    return {hub.code: hub for hub in hub_list(organization=organization)}


def vehicle_list(*, organization) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(organization=organization).select_related("home_hub")


def driver_list(*, organization) -> QuerySet[Driver]:
    return (
        Driver.objects.filter(organization=organization)
        .select_related("home_hub", "user")
        .prefetch_related("shift_overrides")
    )
