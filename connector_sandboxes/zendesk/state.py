"""The fake Zendesk account's in-memory state: records, id sequences, clock and the one lock.

Everything that reads or writes records holds `State.lock` (an RLock). `State.changed` is a
condition on the same lock: the job runner waits on it for new work. Nothing here does I/O;
webhook deliveries are handed to `State.emit`, which the delivery worker consumes outside the
lock.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = 21_000_001
JSON = dict[str, Any]
AGENT_EMAIL, AGENT_TOKEN = "agent@example.com", "agent-sandbox"
# An agent who sees only the tickets assigned to them (Zendesk's "assigned" restriction).
RESTRICTED_EMAIL = "riley@example.com"


class ApiError(Exception):
    """An error answer in Zendesk's shape; raised anywhere, rendered by the app."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> ApiError:
    return ApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def record_invalid(field: str, description: str, error: str | None = "InvalidValue") -> ApiError:
    item = {"description": description} | ({"error": error} if error else {})
    details = {field: [item]}
    body = {"error": "RecordInvalid", "description": "Record validation errors", "details": details}
    return ApiError(422, body)


def bad_request(description: str, error: str = "InvalidParameter") -> ApiError:
    return ApiError(400, {"error": error, "description": description})


def iso(ts: float) -> str:
    """Zendesk timestamps: second precision, UTC, `Z` suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Ids:
    """Distinct id ranges per record type, so a test that mixes them up fails."""

    def __init__(self) -> None:
        self._seqs: dict[str, itertools.count[int]] = {}

    _STARTS = {
        "ticket": 1,
        "user": 361_000_000_001,
        "organization": 362_000_000_001,
        "ticket_field": 363_000_000_001,
        "option": 364_000_000_001,
        "event": 365_000_000_001,
        "trigger": 366_000_000_001,
        "organization_field": 367_000_000_001,
        "group": 368_000_000_001,
        "group_membership": 369_000_000_001,
    }

    def next(self, kind: str) -> int:
        seq = self._seqs.setdefault(kind, itertools.count(self._STARTS[kind]))
        return next(seq)


class State:
    """All records of one fake account. Methods that touch records expect `lock` to be held."""

    def __init__(self, email: str, token: str, agent_token: str = AGENT_TOKEN) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.email = email
        self.token = token
        self.agent_token = agent_token
        self.base_url = "http://127.0.0.1"
        self.emit: Callable[[Any], None] = lambda delivery: None
        self.time_offset = 0.0
        self.incremental_lag_seconds = 0.0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.ids = Ids()
            self.users: dict[int, JSON] = {}
            self.organizations: dict[int, JSON] = {}
            self.organization_fields: dict[int, JSON] = {}
            self.tickets: dict[int, Any] = {}  # id -> tickets.Ticket
            self.comments: dict[int, list[JSON]] = {}
            self.audits: dict[int, list[JSON]] = {}
            self.ticket_fields: dict[int, JSON] = {}
            self.webhooks: dict[str, JSON] = {}
            self.webhook_secrets: dict[str, str] = {}
            self.triggers: dict[int, JSON] = {}
            self.jobs: dict[str, JSON] = {}
            self.job_payloads: dict[str, tuple[int, list[tuple[int, JSON]]]] = {}  # actor, items
            self.idempotency: dict[str, tuple[str, int, float]] = {}
            self.dynamic_content: dict[str, dict[str, str]] = default_dynamic_content()
            self.deliveries: list[JSON] = []
            self.app_ids: dict[str, int] = {}
            self.app_uploads: dict[int, bytes] = {}
            self.app_jobs: dict[str, JSON] = {}
            self.apps: dict[int, JSON] = {}
            self.app_keys: dict[int, Any] = {}  # app id -> its RSA private key
            self.app_installations: dict[int, JSON] = {}
            self.groups: dict[int, JSON] = {}
            self.group_memberships: dict[int, JSON] = {}
            self.time_offset = 0.0
            self._seed()
            self.changed.notify_all()

    def _seed(self) -> None:
        from connector_sandboxes.zendesk import fields, people  # cyclic at import time only

        self.admin_user_id = people.add_user(self, "Sandbox Admin", self.email, "admin")["id"]
        self.agent_user_id = people.add_user(self, "Alex Agent", AGENT_EMAIL, "agent")["id"]
        restricted = people.add_user(self, "Riley Restricted", RESTRICTED_EMAIL, "agent")
        restricted["ticket_restriction"], restricted["restricted_agent"] = "assigned", True
        self.restricted_user_id = restricted["id"]
        fields.seed_system_fields(self)
        people.add_organization_field(self, "customer_value", "Customer value", "decimal")

    # ---- helpers -------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.time_offset

    def url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path}"

    def authenticate(self, email: str, token: str) -> int | None:
        """The user an `email/token:TOKEN` login acts as. As in Zendesk, an API token is the
        account's, not a user's: any active token with the email of an active agent or admin
        acts as that person, so the email decides who made a change."""
        if token not in (self.token, self.agent_token):
            return None
        for user in self.users.values():
            if user["email"] == email.lower() and user["active"] and user["role"] != "end-user":
                return int(user["id"])
        return None

    def user(self, user_id: int) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            raise not_found()
        return user

    def ticket(self, ticket_id: int) -> Any:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise not_found()
        return ticket


def default_dynamic_content() -> dict[str, dict[str, str]]:
    """A small built-in dynamic content table: name -> locale -> text (`{{dc.name}}`)."""
    return {
        "greeting": {"en-US": "Hello", "de": "Hallo", "fr": "Bonjour", "es": "Hola"},
        "signature": {
            "en-US": "Your support team",
            "de": "Ihr Support-Team",
            "fr": "Votre équipe support",
            "es": "Su equipo de soporte",
        },
        "problem_fixed": {
            "en-US": "The problem you reported has been fixed.",
            "de": "Das gemeldete Problem wurde behoben.",
            "fr": "Le problème que vous avez signalé a été corrigé.",
            "es": "El problema que informó ha sido resuelto.",
        },
    }
