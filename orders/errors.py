from common.errors import ConflictError


class InvalidTransition(ConflictError):
    code = "invalid_transition"

    def __init__(self, *, current: str, target: str, allowed: list[str]):
        allowed_text = ", ".join(allowed) if allowed else "none (final status)"
        super().__init__(
            f"An order in status '{current}' cannot move to '{target}'. Allowed: {allowed_text}.",
            details={"current_status": current, "requested_status": target, "allowed": allowed},
        )


class OrderNotEditable(ConflictError):
    code = "order_not_editable"


class CustomerActionRefused(ConflictError):
    code = "customer_action_refused"
