from common.lifecycle import InvalidTransition


class InvalidExceptionTransition(InvalidTransition):
    code = "invalid_exception_transition"

    # Exceptions said it this way before the lifecycles shared one helper; the allowed moves follow.
    def describe(self, *, noun, current, target, allowed):
        allowed_text = ", ".join(allowed) if allowed else "none (final status)"
        return f"An exception that is {current} cannot become {target}. Allowed: {allowed_text}."

    def describe_details(self, *, current, target, allowed):
        return {"current": current, "target": target, "allowed": allowed}
