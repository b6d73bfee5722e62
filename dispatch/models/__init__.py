"""Dispatch models by subdomain: the network and fleet, daily plans and routes, delivery slots."""

from dispatch.models.network import (  # noqa: F401
    LATITUDE,
    LONGITUDE,
    WEEKDAYS,
    Driver,
    DriverShiftOverride,
    Hub,
    Vehicle,
    VehicleType,
    validate_timezone,
)
