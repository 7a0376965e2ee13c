"""What a doctor check reports, and what the checks read (shared by `doctor` and its parts)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from connector.install.context import AdminContext
    from connector.ops.context import AppContext

    class DoctorContext(AdminContext, AppContext, Protocol):
        """What doctor checks: the admin's full clients, the store and the queue."""


OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail | skip
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def to_json(self) -> dict[str, str]:
        return asdict(self)
