"""One mechanism for every lifecycle: the moves allowed as data, and the one way a row moves.

A lifecycle (plan, stop, slot hold, optimization job, delivery exception...) declares its
statuses, the statuses each may move to and the domain event each move publishes, as a
`Lifecycle`. Its one transition service calls `transition()`, which locks the row, refuses a move
the table does not allow (a 409 naming the current status and the allowed ones), applies the move
with the fields that travel with it, saves only those fields, appends one history row and
publishes the named event after commit. History rows derive from `HistoryEvent`: append-only.
"""

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import models, transaction

from common import clock
from common.errors import ConflictError
from common.events import publish_on_commit

SYSTEM = "system"


class InvalidTransition(ConflictError):
    """A move the lifecycle's table does not allow; subclasses name it (`code`) per lifecycle."""

    code = "invalid_transition"

    def __init__(self, *, noun: str, current: str, target: str, allowed: list[str]):
        self.current, self.target, self.allowed = current, target, allowed
        super().__init__(
            self.describe(noun=noun, current=current, target=target, allowed=allowed),
            details=self.describe_details(current=current, target=target, allowed=allowed),
        )

    def describe(self, *, noun: str, current: str, target: str, allowed: list[str]) -> str:
        article = "An" if noun[:1] in "aeiou" else "A"
        allowed_text = ", ".join(allowed) if allowed else "none (final status)"
        return f"{article} {noun} in status '{current}' cannot move to '{target}'. Allowed: {allowed_text}."

    def describe_details(self, *, current: str, target: str, allowed: list[str]) -> dict:
        return {"current_status": current, "requested_status": target, "allowed": allowed}


@dataclass(frozen=True)
class Lifecycle:
    """Statuses as data: where each may move, and the domain event each arrival publishes."""

    noun: str
    transitions: Mapping[str, Iterable[str]]
    # Target status -> the event name published after commit; every reachable status has one.
    events: Mapping[str, str]
    error: type[InvalidTransition] = InvalidTransition
    moves: Mapping[str, frozenset[str]] = field(init=False)

    def __post_init__(self):
        moves = {str(status): frozenset(str(t) for t in targets) for status, targets in self.transitions.items()}
        reachable = frozenset().union(*moves.values())
        if unknown := reachable - moves.keys():
            raise ValueError(f"{self.noun}: moves to undeclared statuses {sorted(unknown)}")
        if unnamed := reachable - self.events.keys():
            raise ValueError(f"{self.noun}: no event name for arriving in {sorted(unnamed)}")
        object.__setattr__(self, "moves", moves)

    @property
    def terminal(self) -> frozenset[str]:
        return frozenset(status for status, targets in self.moves.items() if not targets)

    def allowed(self, current: str) -> list[str]:
        return sorted(self.moves[current])

    def can(self, current: str, target: str) -> bool:
        return target in self.moves[current]

    def check(self, current: str, target: str) -> None:
        if not self.can(current, target):
            raise self.error(noun=self.noun, current=current, target=target, allowed=self.allowed(current))

    def apply(self, row: models.Model, target: str, fields: Mapping[str, Any]) -> str:
        """Move `row` (in memory) with the fields that travel with the move; returns the previous status."""
        previous = row.status
        self.check(previous, target)
        row.status = target
        for name, value in fields.items():
            setattr(row, name, value)
        return previous


def transition[M: models.Model](
    row: M,
    *,
    lifecycle: Lifecycle,
    to_status: str,
    record: Callable[[M, str], models.Model],
    payload: Callable[[M, str], dict],
    fields: Mapping[str, Any] | Callable[[M], Mapping[str, Any]] | None = None,
    lock: Callable[[M], M] | None = None,
) -> M:
    """Lock, check, apply, save, record and announce one move; returns the locked, moved row.

    `record(row, previous)` builds the unsaved history row; `payload(row, previous)` the event's
    payload; `fields` (or `fields(locked_row)` when they depend on it) travel with the move;
    `lock(row)` re-reads the row under its lock (default: select_for_update by primary key).
    """
    with transaction.atomic():
        locked = lock(row) if lock else type(row)._default_manager.select_for_update().get(pk=row.pk)
        changes = dict(fields(locked) if callable(fields) else fields or {})
        previous = lifecycle.apply(locked, to_status, changes)
        update_fields = ["status", *changes]
        if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
            update_fields.append("updated_at")
        locked.save(update_fields=update_fields)
        record(locked, previous).save()
        publish_on_commit(lifecycle.events[to_status], payload(locked, previous))
    return locked


class Labelled(Protocol):
    @property
    def label(self) -> str: ...


def actor_label(actor: Labelled | None) -> str:
    """Who a history row names: `user:<name>`, `api_key:<name>`, or `system` when no one acted."""
    return actor.label if actor is not None else SYSTEM


def presented[M: models.Model](row: M, **shown: Any) -> M:
    """A copy of `row` showing `shown` instead: how a read shows a change only a write may make."""
    copied = copy.copy(row)
    for name, value in shown.items():
        setattr(copied, name, value)
    return copied


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only.")


class AppendOnlyModel(models.Model):
    """Rows are added, never changed or deleted (a row goes only with its subject, by cascade)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only.")


class HistoryEvent(AppendOnlyModel):
    """One history row: when, who, the move (from, to), why, and small JSON details."""

    kind = models.CharField(max_length=40)
    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.CharField(max_length=150, help_text="user:<name>, api_key:<name> or system")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"
