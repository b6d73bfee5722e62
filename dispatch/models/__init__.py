"""Dispatch models by subdomain: the network and fleet, daily plans and routes, delivery slots."""

from dispatch.models.execution import (  # noqa: F401
    ActionKind,
    ActionOutcome,
    DeliveryProof,
    DriverAction,
    FailureReason,
    ProofKind,
)
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
    STOP_CLOSED,
    STOP_LIFECYCLE,
    STOP_OPEN,
    STOP_TRANSITIONS,
    ArrivalSource,
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
