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
from dispatch.models.planning import (  # noqa: F401, E402
    ACTIVE_STATUSES,
    PLAN_TRANSITIONS,
    Objective,
    Plan,
    PlanStatus,
    PlanUnassigned,
    Route,
    Stop,
    StopStatus,
)
from dispatch.models.slots import (  # noqa: F401
    HoldStatus,
    SlotCounter,
    SlotHold,
    SlotTemplate,
)
