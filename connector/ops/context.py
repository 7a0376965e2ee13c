"""What the web tier and the operations work with: the sync core's `CoreContext` (settings,
config, store, scheduler) and the queue itself (its depth, its readiness). No vendor client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from connector.sync.ports import CoreContext

if TYPE_CHECKING:
    from huey import Huey


class AppContext(CoreContext, Protocol):
    @property
    def huey(self) -> Huey: ...
