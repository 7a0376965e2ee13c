"""What the sync core needs from the world, as interfaces: the composition root
(`connector.bootstrap`) provides them; the core never builds or imports its own.

- `ZendeskPort`, `JiraPort`: the calls the core makes to each side, in the connector's own
  models (`connector.zendesk.client` and `connector.jira.client` implement them; tests may fake).
- `Clock`: the time (wall and monotonic) and sleeping, so tests can move it by hand.
- `Scheduler`: set work in motion later (queue tasks in production, direct calls in tests).
- `CoreContext`: the settings, the config, the store and the scheduler: all the approval of
  replies needs (no vendor client; the web tier's `ops.context.AppContext` adds the queue).
- `Services`: adds the clock, the two vendor ports and who the connector itself is on each side
  (so its own changes are not processed again): what the sync core works with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from connector.config import Config
    from connector.jira.models import JiraIssue, SearchPage
    from connector.settings import Settings
    from connector.store.db import Database
    from connector.zendesk.models import JobStatus, NamedTickets, Ticket, TicketUpdate, User


class ZendeskPort(Protocol):
    def me(self) -> User: ...
    def get_user(self, user_id: int) -> User: ...
    def group_ids_of(self, user_id: int) -> list[int]: ...
    def get_ticket(self, ticket_id: int) -> Ticket: ...
    def show_many(self, ticket_ids: Sequence[int]) -> list[Ticket]: ...
    def show_many_named(self, ticket_ids: Sequence[int]) -> NamedTickets: ...
    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> Ticket: ...
    def update_many_same(self, ticket_ids: Sequence[int], update: TicketUpdate) -> JobStatus: ...
    def update_in_batches(
        self, ticket_ids: Iterable[int], update: TicketUpdate
    ) -> Iterator[tuple[list[int], JobStatus]]: ...
    def update_all(self, ticket_ids: Iterable[int], update: TicketUpdate) -> list[JobStatus]: ...
    def job_statuses(self, job_ids: Sequence[str]) -> list[JobStatus]: ...
    def create_followup(
        self,
        closed_ticket_id: int,
        update: TicketUpdate,
        *,
        requester_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ticket: ...
    def organization_values(
        self, organization_ids: Sequence[int], field_key: str
    ) -> dict[int, float]: ...
    def get_ticket_field(self, field_id: int) -> dict[str, Any]: ...
    def upsert_field_option(
        self, field_id: int, name: str, value: str, option_id: int | None = None
    ) -> dict[str, Any]: ...
    def delete_field_option(self, field_id: int, option_id: int) -> None: ...


class JiraPort(Protocol):
    def myself(self) -> dict[str, Any]: ...
    def get_issue(self, id_or_key: str) -> JiraIssue: ...
    def create_issue(self, fields: dict[str, Any]) -> tuple[str, str]: ...
    def update_issue(self, id_or_key: str, fields: dict[str, Any]) -> None: ...
    def add_comment(self, id_or_key: str, body: str) -> None: ...
    def set_property(self, id_or_key: str, key: str, value: Any) -> None: ...
    def edit_issue(
        self, id_or_key: str, fields: dict[str, Any], properties: dict[str, Any], notify: bool
    ) -> list[str]: ...
    def upsert_remote_link(
        self, id_or_key: str, global_id: str, url: str, title: str, summary: str = ""
    ) -> None: ...
    def search(
        self, jql: str, fields: Sequence[str], next_page_token: str | None = None, limit: int = 100
    ) -> SearchPage: ...


class TextModel(Protocol):
    """Turns texts into unit vectors (`connector.textmodel` implements it)."""

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class ProblemMatch(Protocol):
    @property
    def problem_id(self) -> int: ...

    @property
    def confidence(self) -> float:
        """A calibrated probability in [0, 1]."""


class Ranker(Protocol):
    def rank(
        self, vectors: npt.NDArray[np.float32], top: int = 3
    ) -> Sequence[Sequence[ProblemMatch]]: ...


class SuggestionEngine(Protocol):
    """The text model and the model trained on the store's examples (`connector.sync.
    suggestions.model` implements it, one per process)."""

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def suggester(self, db: Database) -> Ranker | None: ...

    def forget(self) -> None:
        """Drop the trained model: the next `suggester` call trains again."""


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC: what is stored and compared with Zendesk's and Jira's times."""

    def monotonic(self) -> float:
        """For deadlines and intervals within a process."""

    def sleep(self, seconds: float) -> None: ...


class Scheduler(Protocol):
    """Work the core asks for later; each re-reads the store, so repeats are harmless."""

    def process_events(self) -> None:
        """Process the pending inbound events (coalesced: a burst becomes one batch)."""

    def process_events_at(self, due: datetime, now: datetime) -> None:
        """Process the inbound events again at `due` (failed ones wait to be retried); `now` is
        the core's time, against which a run already planned is judged still ahead."""

    def refresh(self, problem_ids: Iterable[int]) -> None:
        """Bring these problems up to date in Jira and Zendesk."""

    def write_impact_at(self, problem_id: int, due: datetime) -> None:
        """Write the problem's impact to Jira at `due` (the end of its debounce interval)."""

    def mirror_at(self, problem_id: int, due: datetime) -> None:
        """Mirror the problem's Jira issue to its tickets at `due`."""

    def fanout(self, problem_id: int) -> None:
        """Converge the problem's customer replies with Zendesk."""

    def apply_proposals(self) -> None:
        """Turn the proposals an admin accepted into linked problems."""


# One protocol per thing a service may need; each sync function's parameter type combines just
# the ones it uses (`HasStore & HasZendesk`, written as a small protocol next to the function),
# so its dependencies are in its signature and a test can fake exactly those.
class HasStore(Protocol):
    @property
    def db(self) -> Database: ...


class HasConfig(Protocol):
    @property
    def config(self) -> Config: ...


class HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


class HasClock(Protocol):
    @property
    def clock(self) -> Clock: ...


class HasScheduler(Protocol):
    @property
    def scheduler(self) -> Scheduler: ...


class HasZendesk(Protocol):
    @property
    def zendesk(self) -> ZendeskPort: ...


class HasJira(Protocol):
    @property
    def jira(self) -> JiraPort: ...


class HasSuggestionEngine(Protocol):
    @property
    def suggestion_engine(self) -> SuggestionEngine: ...


class HasIdentity(Protocol):
    """Who the connector is on each side: its own changes are not processed again."""

    @property
    def zendesk_user_id(self) -> int: ...

    @property
    def jira_account_id(self) -> str | None: ...


class CoreContext(HasSettings, HasConfig, HasStore, HasScheduler, Protocol):
    """Settings, config, store and scheduler (see the module's docstring)."""


class Services(
    CoreContext, HasClock, HasZendesk, HasJira, HasIdentity, HasSuggestionEngine, Protocol
):
    """Everything the sync core works with: what the steps that orchestrate it receive."""
