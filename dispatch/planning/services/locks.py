"""Row locks for plans, always in one order: plan, then route, then stop; rows by primary key.

Taking the plan lock first serialises every write to one plan, so the route and stop locks
below it can never deadlock; the version check makes the loser of a race say so.
"""

from collections.abc import Iterable

from common.errors import ConflictError
from dispatch.models import Plan, Route, Stop


class PlanVersionConflict(ConflictError):
    code = "plan_version_conflict"


def plan_lock(*, plan_id: int) -> Plan:
    return Plan.objects.select_for_update(of=("self",)).select_related("hub", "organization").get(pk=plan_id)


def routes_lock(*, plan: Plan, route_ids: Iterable[int] | None = None) -> list[Route]:
    routes = Route.objects.select_for_update(of=("self",)).filter(plan=plan)
    if route_ids is not None:
        routes = routes.filter(pk__in=list(route_ids))
    return list(routes.select_related("vehicle", "driver").order_by("pk"))


def stops_lock(*, routes: Iterable[Route]) -> list[Stop]:
    return list(Stop.objects.select_for_update().filter(route__in=list(routes)).order_by("pk"))


def plan_check_version(*, plan: Plan, expected_version: int | None) -> None:
    """Refuse an edit made on an older copy of the plan (someone else changed it since)."""
    if expected_version is not None and expected_version != plan.version:
        raise PlanVersionConflict(
            f"The plan changed since you loaded it (your version {expected_version}, now {plan.version}). "
            "Reload the plan and try again.",
            details={"expected_version": expected_version, "current_version": plan.version},
        )
