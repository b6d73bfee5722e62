"""Plain data model of a routing problem and its solution.

Units everywhere: times in seconds (absolute, on the same clock as the time windows),
distances in metres, amounts in whatever integer unit each capacity dimension uses
(e.g. kg, dm³, parcels). Costs follow VROOM: a vehicle's ``per_hour`` applies to travel
time, ``per_km`` to distance, ``fixed`` once per used vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Reasons reported for unassigned tasks (a VROOM output extension).
REASONS = (
    "capacity",
    "time_window",
    "skills",
    "shift",
    "range",
    "max_travel_time",
    "dropped_at_cost",
    "no_vehicle",
)

Window = tuple[int, int]


@dataclass(frozen=True)
class Place:
    """A location: a row/column of the matrices and/or coordinates (lon, lat in degrees)."""

    index: int | None = None
    coordinates: tuple[float, float] | None = None


@dataclass
class Job:
    """A single stop: deliver ``delivery`` (loaded at the start) and/or collect ``pickup``.

    ``time_windows`` are hard; ``soft_window`` adds a lateness cost of
    ``lateness_cost_per_hour`` for each hour service starts after its end (and service
    never starts before its start). ``drop_cost`` makes the job optional: leaving it out
    costs that much. ``None`` means mandatory (dropped only if it cannot be served).
    """

    id: int
    place: Place
    service_s: int = 0
    setup_s: int = 0
    delivery: list[int] = field(default_factory=list)
    pickup: list[int] = field(default_factory=list)
    skills: frozenset[int] = frozenset()
    priority: int = 0
    time_windows: list[Window] = field(default_factory=list)
    soft_window: Window | None = None
    lateness_cost_per_hour: int = 0
    drop_cost: int | None = None
    description: str = ""


@dataclass
class ShipmentStep:
    """One end of a shipment (pickup or delivery side)."""

    id: int
    place: Place
    service_s: int = 0
    setup_s: int = 0
    time_windows: list[Window] = field(default_factory=list)
    soft_window: Window | None = None
    lateness_cost_per_hour: int = 0
    description: str = ""


@dataclass
class Shipment:
    """A pickup-and-delivery pair carrying ``amount``; same vehicle, pickup first."""

    pickup: ShipmentStep
    delivery: ShipmentStep
    amount: list[int] = field(default_factory=list)
    skills: frozenset[int] = frozenset()
    priority: int = 0
    drop_cost: int | None = None


@dataclass
class Break:
    """A driver break of ``service_s`` seconds starting inside one of ``time_windows``."""

    id: int
    time_windows: list[Window] = field(default_factory=list)
    service_s: int = 0
    description: str = ""


@dataclass
class VehicleCosts:
    """Cost of a vehicle: ``fixed`` once if used, ``per_hour`` of travel, ``per_km``."""

    fixed: int = 0
    per_hour: int = 3600
    per_km: int = 0


@dataclass
class Vehicle:
    """A vehicle and its shift.

    ``end=None`` is an open route (the route stops at the last task). ``max_travel_time_s``
    caps the summed travel time, ``max_distance_m`` the route length (EV range).
    ``max_overtime_s`` lets the route end after the shift end at
    ``overtime_cost_per_hour``.
    """

    id: int
    start: Place | None = None
    end: Place | None = None
    profile: str = "car"
    capacity: list[int] = field(default_factory=list)
    skills: frozenset[int] = frozenset()
    time_window: Window | None = None
    breaks: list[Break] = field(default_factory=list)
    costs: VehicleCosts = field(default_factory=VehicleCosts)
    speed_factor: float = 1.0
    max_tasks: int | None = None
    max_travel_time_s: int | None = None
    max_distance_m: int | None = None
    max_overtime_s: int = 0
    overtime_cost_per_hour: int = 0
    description: str = ""


@dataclass
class Matrices:
    """Square matrices for one profile: durations (s), distances (m), optional costs."""

    durations: list[list[int]] | None = None
    distances: list[list[int]] | None = None
    costs: list[list[int]] | None = None


@dataclass
class Problem:
    """A routing problem. Without ``matrices`` the travel provider computes them."""

    jobs: list[Job] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    matrices: dict[str, Matrices] = field(default_factory=dict)


@dataclass
class Step:
    """One step of a route: times in seconds, ``distance`` cumulative metres."""

    type: str  # start | job | pickup | delivery | break | end
    id: int | None
    location_index: int | None
    arrival: int
    service: int = 0
    setup: int = 0
    waiting_time: int = 0
    duration: int = 0  # cumulative travel time since start (VROOM convention)
    distance: int = 0
    load: list[int] = field(default_factory=list)
    lateness: int = 0
    location: tuple[float, float] | None = None
    node: int | None = None  # row of the compiled model's matrices (internal)


@dataclass
class Route:
    """A vehicle's route with its VROOM summary figures and a cost breakdown."""

    vehicle: int
    steps: list[Step]
    cost: int = 0
    cost_breakdown: dict[str, int] = field(default_factory=dict)
    service: int = 0
    duration: int = 0
    waiting_time: int = 0
    distance: int = 0
    delivery: list[int] = field(default_factory=list)
    pickup: list[int] = field(default_factory=list)
    lateness: int = 0
    overtime: int = 0
    # Seconds by which hard windows or the shift end are missed (0 for a valid route).
    time_warp: int = 0


@dataclass
class Unassigned:
    """A task left out of every route, with one of :data:`REASONS`."""

    id: int
    type: str  # job | pickup | delivery
    reason: str
    location: tuple[float, float] | None = None
    location_index: int | None = None


@dataclass
class Solution:
    """The routes, the unassigned tasks and search metadata (times in seconds)."""

    routes: list[Route] = field(default_factory=list)
    unassigned: list[Unassigned] = field(default_factory=list)
    engine: str = ""
    solve_seconds: float = 0.0
    loading_seconds: float = 0.0

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.routes)
