"""Refusals of route execution, each with a stable code the driver app shows as it is."""

from common.errors import ConflictError, DomainError, NotFoundError, UnprocessableError


class ProofRequired(UnprocessableError):
    """Completing (or failing) a stop without what the order asks for; `details.missing` names it."""

    code = "proof_required"

    def __init__(self, missing: list[str], *, reasons: dict[str, str] | None = None):
        self.missing = missing
        text = "; ".join(f"{name} ({reasons[name]})" if reasons and name in reasons else name for name in missing)
        super().__init__(
            f"This delivery cannot be completed without: {text}.",
            details={"missing": missing, **({"reasons": reasons} if reasons else {})},
        )


class StopReassigned(ConflictError):
    code = "stop_reassigned"


class OrderCancelled(ConflictError):
    code = "order_cancelled"


class RouteNotDispatched(ConflictError):
    code = "route_not_dispatched"


class NoRouteToday(ConflictError):
    code = "no_route_today"


class NoDriverProfile(NotFoundError):
    code = "no_driver_profile"

    def __init__(self):
        super().__init__("This account has no driver profile; ask a dispatcher to link one.")


class ContactUnavailable(ConflictError):
    code = "contact_unavailable"


class ExecutionNotPermitted(DomainError):
    """A merchant's API key (or a role that was not at the door) executing a stop: 403."""

    code = "transition_not_permitted"
    status_code = 403

    def __init__(self):
        super().__init__(
            "Only a driver, or a dispatcher acting for one, can execute a stop: it is recorded at the door, "
            "with the proof the order asks for."
        )
