"""The one error type of the routing library."""

from __future__ import annotations


class ProblemValidationError(ValueError):
    """An invalid problem. ``errors`` maps a JSON path or field to its messages.

    Example: ``{"jobs[3].time_windows[0]": ["window ends before it starts"]}``.
    """

    code = "invalid_problem"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        first = next(iter(errors.items()), ("", [""]))
        super().__init__(
            f"invalid problem: {first[0]}: {first[1][0]}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )
