"""Writes to the network and fleet (hubs, vehicles, drivers)."""

from django.db import models, transaction
from django.db.models import ProtectedError

from common.errors import ConflictError
from dispatch.models import DriverShiftOverride


def fleet_save(*, organization, instance: models.Model, data: dict) -> models.Model:
    """Create or update a hub, vehicle or driver of `organization` after model validation."""
    for field, value in data.items():
        setattr(instance, field, value)
    instance.organization = organization
    with transaction.atomic():
        instance.full_clean()
        instance.save()
    return instance


def driver_shift_override_set(*, driver, data: dict):
    """Create or replace the driver's shift for one date (a day off, or other hours)."""
    with transaction.atomic():
        override, _ = DriverShiftOverride.objects.select_for_update().get_or_create(driver=driver, date=data["date"])
        override.off = data.get("off", False)
        override.start, override.end = data.get("start"), data.get("end")
        override.breaks = data.get("breaks", [])
        override.full_clean()
        override.save()
    return override


def fleet_delete(*, instance: models.Model) -> None:
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        raise ConflictError(
            f"This {instance._meta.verbose_name} is still referenced (e.g. by vehicles, drivers or "
            "orders); deactivate it or move those first.",
            code="still_referenced",
        ) from error
