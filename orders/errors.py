from common.errors import ConflictError, FieldValidationError


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


class TransitionNotPermitted(FieldValidationError):
    """A move the caller may not make (a merchant's API key recording a delivery): 403.

    Field-level like a validation error, so clients show it beside the `status` they sent.
    """

    code = "transition_not_permitted"
    status_code = 403

    def __init__(self, *, target: str):
        message = (
            f"Only a driver or a dispatcher can move an order to '{target}': it is recorded at the door, "
            "with the proof the order asks for."
        )
        super().__init__({"status": [message]}, message=message)


class DeliveryCodeWrong(ConflictError):
    code = "delivery_code_wrong"

    def __init__(self, *, attempts_left: int):
        super().__init__(
            f"The one-time code is wrong; {attempts_left} tries left before it locks.",
            details={"attempts_left": attempts_left},
        )


class DeliveryCodeLocked(ConflictError):
    code = "delivery_code_locked"

    def __init__(self):
        super().__init__(
            "Too many wrong one-time codes: the code is locked. Ask the dispatcher to reset it.",
            details={"attempts_left": 0},
        )


class DeliveryCodeNotResettable(ConflictError):
    code = "delivery_code_not_resettable"

    def __init__(self, *, status: str, requires_code: bool):
        if not requires_code:
            message = "This order does not ask for a one-time code, so there is none to reset."
        else:
            message = (
                f"The one-time code can be reset only while the order is out for delivery or arrived; it is '{status}'."
            )
        super().__init__(message, details={"current_status": status, "requires_code": requires_code})
