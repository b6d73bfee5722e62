"""Field-level validation of problems; every error names its JSON path."""

from __future__ import annotations

from collections import defaultdict

from routing.errors import ProblemValidationError
from routing.problem import Place, Problem, Window


class Checker:
    """Collects ``{path: [messages]}`` and converts values leniently while doing so."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, path: str, message: str) -> None:
        self.errors[path].append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ProblemValidationError(dict(self.errors))

    def integer(self, path: str, value) -> int:
        if value is None:
            self.add(path, "is required")
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self.add(path, "must be an integer")
                return 0
        if value < 0:
            self.add(path, "must not be negative")
            return 0
        return value

    def number(self, path: str, value) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.add(path, "must be a positive number")
            return 1.0
        return float(value)

    def window(self, path: str, value) -> Window | None:
        if not isinstance(value, list | tuple) or len(value) != 2:
            self.add(path, "must be [start, end]")
            return None
        start, end = self.integer(path, value[0]), self.integer(path, value[1])
        if end < start:
            self.add(path, "window ends before it starts")
            return None
        return (start, end)

    def matrix(self, path: str, value) -> list[list[int]] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            self.add(path, "must be a list of rows")
            return None
        n = len(value)
        if any(len(row) != n for row in value):
            self.add(path, f"matrix is not square ({n} rows)")
            return None
        flat = [x for row in value for x in row]
        if any(isinstance(x, bool) or not isinstance(x, int) or x < 0 for x in flat):
            self.add(path, "cells must be non-negative integers")
            return None
        return value


def validate_problem(problem: Problem) -> None:
    """Check cross-field rules of a problem; raises :class:`ProblemValidationError`."""
    check = Checker()
    _check_matrices(check, problem)
    dims = _check_capacities(check, problem)
    seen: dict[str, set[int]] = defaultdict(set)
    for k, job in enumerate(problem.jobs):
        path = f"jobs[{k}]"
        _unique(check, seen["job"], f"{path}.id", job.id)
        _check_task(check, problem, path, job.place, job.time_windows, job.soft_window)
        _check_amount(check, f"{path}.delivery", job.delivery, dims)
        _check_amount(check, f"{path}.pickup", job.pickup, dims)
        _check_priority(check, path, job.priority)
    for k, shipment in enumerate(problem.shipments):
        path = f"shipments[{k}]"
        for side in ("pickup", "delivery"):
            step = getattr(shipment, side)
            _unique(check, seen[side], f"{path}.{side}.id", step.id)
            _check_task(check, problem, f"{path}.{side}", step.place, step.time_windows, step.soft_window)
        _check_amount(check, f"{path}.amount", shipment.amount, dims)
        _check_priority(check, path, shipment.priority)
    for k, vehicle in enumerate(problem.vehicles):
        _check_vehicle(check, problem, f"vehicles[{k}]", vehicle, seen["vehicle"])
    check.raise_if_any()


def _unique(check: Checker, seen: set[int], path: str, ident: int) -> None:
    if ident in seen:
        check.add(path, f"duplicate id {ident}")
    seen.add(ident)


def _check_matrices(check: Checker, problem: Problem) -> None:
    for profile, mats in problem.matrices.items():
        sizes = {name: len(m) for name in ("durations", "distances", "costs") if (m := getattr(mats, name)) is not None}
        if len(set(sizes.values())) > 1:
            check.add(f"matrices.{profile}", f"matrices differ in size: {sizes}")
        if mats.durations is None and mats.costs is None:
            check.add(f"matrices.{profile}.durations", "is required")


def _matrix_size(problem: Problem, profile: str) -> int | None:
    mats = problem.matrices.get(profile)
    if mats is None:
        return None
    return len(next(m for m in (mats.durations, mats.distances, mats.costs) if m is not None))


def _check_place(check: Checker, problem: Problem, path: str, place: Place, profiles) -> None:
    for profile in profiles:
        size = _matrix_size(problem, profile)
        if size is None:
            if place.coordinates is None:
                check.add(path, f"needs a location (no matrix for profile {profile!r})")
        elif place.index is None:
            check.add(path, f"needs a location_index (matrices given for {profile!r})")
        elif place.index >= size:
            check.add(path, f"location_index {place.index} out of range for a {size}×{size} matrix")


def _profiles(problem: Problem) -> set[str]:
    return {v.profile for v in problem.vehicles}


def _check_task(check, problem, path, place, windows, soft) -> None:
    _check_place(
        check,
        problem,
        f"{path}.location_index" if place.index is not None else f"{path}.location",
        place,
        _profiles(problem),
    )
    if soft is not None and soft[1] < soft[0]:
        check.add(f"{path}.soft_time_window", "window ends before it starts")
    for k, (a, b) in enumerate(windows):
        if b < a:
            check.add(f"{path}.time_windows[{k}]", "window ends before it starts")


def _check_capacities(check: Checker, problem: Problem) -> int:
    dims = len(problem.vehicles[0].capacity) if problem.vehicles else None
    for k, vehicle in enumerate(problem.vehicles):
        if len(vehicle.capacity) != dims:
            check.add(
                f"vehicles[{k}].capacity",
                f"has {len(vehicle.capacity)} dimensions, vehicles[0] has {dims}",
            )
        if any(c < 0 for c in vehicle.capacity):
            check.add(f"vehicles[{k}].capacity", "must not be negative")
    return dims if dims is not None else -1


def _check_amount(check: Checker, path: str, amount: list[int], dims: int) -> None:
    if any(a < 0 for a in amount):
        check.add(path, "must not be negative")
    if amount and dims >= 0 and len(amount) != dims:
        check.add(path, f"has {len(amount)} dimensions, capacity has {dims}")


def _check_priority(check: Checker, path: str, priority: int) -> None:
    if not 0 <= priority <= 100:
        check.add(f"{path}.priority", "must be between 0 and 100")


def _check_vehicle(check, problem, path, vehicle, seen) -> None:
    _unique(check, seen, f"{path}.id", vehicle.id)
    if vehicle.start is None and vehicle.end is None:
        check.add(path, "needs a start or an end")
    for side in ("start", "end"):
        place = getattr(vehicle, side)
        if place is not None:
            _check_place(check, problem, f"{path}.{side}", place, [vehicle.profile])
    window = vehicle.time_window
    if window is not None and window[1] < window[0]:
        check.add(f"{path}.time_window", "window ends before it starts")
    if vehicle.speed_factor <= 0:
        check.add(f"{path}.speed_factor", "must be a positive number")
    break_ids: set[int] = set()
    for k, brk in enumerate(vehicle.breaks):
        _unique(check, break_ids, f"{path}.breaks[{k}].id", brk.id)
        for w, (a, b) in enumerate(brk.time_windows):
            if b < a:
                check.add(f"{path}.breaks[{k}].time_windows[{w}]", "window ends before it starts")
