from common.errors import ConflictError


class InvalidExceptionTransition(ConflictError):
    code = "invalid_exception_transition"

    def __init__(self, *, current: str, target: str):
        super().__init__(
            f"An exception that is {current} cannot become {target}.", details={"current": current, "target": target}
        )
