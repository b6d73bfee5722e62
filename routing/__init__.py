"""Waypoint's route-optimisation engine: a pure library (no Django, no project apps).

What it offers, all importable from ``routing`` (units: seconds, metres, integer amounts per
capacity dimension, costs in the vehicles' cost unit; see docs/routing.md):

* the problem and solution model: :class:`Problem` of :class:`Job`, :class:`Shipment` and
  :class:`Vehicle` (with :class:`Break`, :class:`VehicleCosts`, :class:`Matrices`,
  :class:`Place`); :class:`Solution` of :class:`Route` (:class:`Step`) and
  :class:`Unassigned` tasks with one of :data:`REASONS`;
* :func:`solve` within a wall-clock budget, and :func:`verify`, an independent feasibility check;
* VROOM JSON: :func:`parse_problem` (raises :class:`ProblemValidationError`, the library's one
  error) and :func:`format_solution`;
* changes to a running plan: :func:`committed_routes` lays committed stops out as routes,
  :func:`best_insertion` prices one more stop on them (an :class:`InsertionPlan`) without a
  search, :func:`reoptimise` re-plans from the vehicles' live states (:class:`VehicleState`;
  :func:`live_problem` is the problem it solved);
* travel: the :class:`TravelProvider` protocol, the offline :class:`GreatCircleProvider` (and
  :class:`ReusingProvider` for repeated questions), the speeds :data:`SPEEDS_KMH`, and the
  time-of-day profile :data:`CITY_TRAFFIC` with :func:`traffic_multiplier`,
  :func:`time_dependent_travel` and :func:`retime`;
* roads: OSRM road networks, embedded (:class:`OsrmProvider`, over files :func:`build_osrm`
  makes from an OpenStreetMap extract, found by :func:`osrm_datasets`) or over HTTP
  (:class:`OsrmTableProvider`), both :class:`RoadProvider` subclasses that fall back to the great
  circle per cell, draw road lines (``route_geometry``) and map vehicle types onto
  :data:`OSRM_PROFILES`; :class:`RoadsError` when data cannot be built.

The domain reaches the engine through this package and ``routing.adapter`` only (an
import-linter contract checks it); ``python -m routing solve`` is the command line.
"""

from routing.dynamic import (
    CommittedRoutes,
    InsertionPlan,
    VehicleState,
    best_insertion,
    committed_routes,
    live_problem,
    reoptimise,
)
from routing.errors import ProblemValidationError
from routing.insertion import Candidate
from routing.problem import (
    REASONS,
    Break,
    Job,
    Matrices,
    Place,
    Problem,
    Route,
    Shipment,
    ShipmentStep,
    Solution,
    Step,
    Unassigned,
    Vehicle,
    VehicleCosts,
    Window,
)
from routing.roads import (
    OSRM_PROFILES,
    ROAD_PROFILES,
    OsrmProvider,
    OsrmTableProvider,
    RoadProvider,
    RoadsError,
    build_osrm,
    osrm_datasets,
)
from routing.solver import ProgressCallback, solve
from routing.travel import (
    CITY_TRAFFIC,
    SPEEDS_KMH,
    GreatCircleProvider,
    LatLng,
    ReusingProvider,
    TravelProvider,
    retime,
    time_dependent_travel,
    traffic_multiplier,
)
from routing.verify import verify
from routing.vroom_json import format_solution, parse_problem

__all__ = [
    "CITY_TRAFFIC",
    "OSRM_PROFILES",
    "REASONS",
    "ROAD_PROFILES",
    "SPEEDS_KMH",
    "Break",
    "Candidate",
    "CommittedRoutes",
    "GreatCircleProvider",
    "InsertionPlan",
    "Job",
    "LatLng",
    "Matrices",
    "OsrmProvider",
    "OsrmTableProvider",
    "Place",
    "Problem",
    "ProblemValidationError",
    "ProgressCallback",
    "ReusingProvider",
    "RoadProvider",
    "RoadsError",
    "Route",
    "Shipment",
    "ShipmentStep",
    "Solution",
    "Step",
    "TravelProvider",
    "Unassigned",
    "Vehicle",
    "VehicleCosts",
    "VehicleState",
    "Window",
    "best_insertion",
    "build_osrm",
    "committed_routes",
    "format_solution",
    "live_problem",
    "osrm_datasets",
    "parse_problem",
    "reoptimise",
    "retime",
    "solve",
    "time_dependent_travel",
    "traffic_multiplier",
    "verify",
]
