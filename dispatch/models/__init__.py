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
    PLAN_LIFECYCLE,
    PLAN_TRANSITIONS,
    STOP_LIFECYCLE,
    STOP_TRANSITIONS,
    Objective,
    Plan,
    PlanEvent,
    PlanStatus,
    PlanUnassigned,
    Route,
    Stop,
    StopEvent,
    StopStatus,
)
from dispatch.models.slots import (  # noqa: F401
    HOLD_LIFECYCLE,
    HOLD_TRANSITIONS,
    HoldStatus,
    SlotCounter,
    SlotHold,
    SlotHoldEvent,
    SlotTemplate,
)
