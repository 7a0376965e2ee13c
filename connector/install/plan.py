"""A plan is a list of steps, each saying what it would do; applying runs the changing ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KEEP, CREATE, UPDATE, DELETE = "keep", "create", "update", "delete"


@dataclass
class Step:
    side: str  # "zendesk" | "jira"
    kind: str  # "ticket field", "webhook", "trigger"
    name: str
    action: str  # keep | create | update | delete
    detail: str = ""
    run: Callable[[], Any] | None = None

    @property
    def changes(self) -> bool:
        return self.action != KEEP


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, step: Step) -> None:
        self.steps.append(step)

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.changes]

    def apply(self) -> None:
        for step in self.steps:
            if step.run is not None:
                step.run()
