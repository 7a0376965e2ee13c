"""The sidebar app's rows: its installation (public key), bearer sessions, agents' ticket
access as last checked, and the actions agents queued."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from connector.store.db import Database, Session
from connector.store.models import AppAction, AppActionState, AppInstall, AppSession, TicketAccess


# ---- installation ------------------------------------------------------------------------
def install_of(db: Database, zendesk_url: str) -> AppInstall | None:
    with db.session() as session:
        found = session.get(AppInstall, zendesk_url)
        if found is not None:
            session.expunge(found)
        return found


def record_install(
    db: Database,
    zendesk_url: str,
    app_id: int,
    installation_id: int | None,
    package_digest: str,
    public_key: str | None,
) -> None:
    with db.session() as session:
        row = session.get(AppInstall, zendesk_url) or AppInstall(zendesk_url=zendesk_url)
        row.app_id, row.installation_id = app_id, installation_id
        row.package_digest, row.public_key = package_digest, public_key
        session.add(row)


def forget_install(db: Database, zendesk_url: str) -> None:
    with db.session() as session:
        session.execute(delete(AppInstall).where(AppInstall.zendesk_url == zendesk_url))


# ---- sessions ----------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, user_id: int, now: datetime, ttl: timedelta) -> str:
    """A new bearer token for this agent (expired sessions are swept on the way)."""
    token = secrets.token_urlsafe(32)
    with db.session() as session:
        session.execute(delete(AppSession).where(AppSession.expires_at < now))
        session.add(AppSession(token_hash=_hash(token), user_id=user_id, expires_at=now + ttl))
    return token


def session_user(db: Database, token: str, now: datetime) -> int | None:
    """The agent a live bearer token belongs to."""
    with db.session() as session:
        row = session.get(AppSession, _hash(token))
        if row is None or row.expires_at <= now:
            return None
        return int(row.user_id)


# ---- ticket access -----------------------------------------------------------------------
def access_of(session: Session, user_id: int, ticket_id: int) -> TicketAccess | None:
    return session.get(TicketAccess, (user_id, ticket_id))


def request_access_check(
    session: Session, user_id: int, ticket_id: int, now: datetime, pending_for: timedelta
) -> bool:
    """Mark a check as wanted; False while one asked less than `pending_for` ago still waits
    (one event, not one per poll; a check whose event was lost or parked is asked again)."""
    row = access_of(session, user_id, ticket_id)
    if row is None:
        session.add(
            TicketAccess(user_id=user_id, ticket_id=ticket_id, allowed=None, requested_at=now)
        )
        return True
    if row.checked_at is None and now - row.requested_at < pending_for:
        return False
    row.allowed, row.checked_at, row.requested_at = None, None, now
    return True


def record_access(
    session: Session, user_id: int, ticket_id: int, allowed: bool, reason: str, now: datetime
) -> None:
    row = access_of(session, user_id, ticket_id)
    if row is None:
        row = TicketAccess(user_id=user_id, ticket_id=ticket_id, requested_at=now)
        session.add(row)
    row.allowed, row.reason, row.checked_at = allowed, reason[:255], now


# ---- actions -----------------------------------------------------------------------------
def add_action(
    db: Database,
    ticket_id: int,
    user_id: int,
    kind: str,
    problem_id: int | None,
    team: str | None,
) -> int:
    with db.session() as session:
        action = AppAction(
            ticket_id=ticket_id, user_id=user_id, kind=kind, problem_id=problem_id, team=team
        )
        session.add(action)
        session.flush()
        return int(action.id)


def action(session: Session, action_id: int) -> AppAction | None:
    return session.get(AppAction, action_id)


def finish_action(
    session: Session, action_id: int, state: AppActionState, message: str, now: datetime
) -> None:
    row = session.get(AppAction, action_id)
    if row is not None and row.state is AppActionState.QUEUED:
        row.state, row.message, row.finished_at = state, message[:500], now


def waiting_actions(session: Session, ticket_id: int) -> list[AppAction]:
    return list(
        session.scalars(
            select(AppAction)
            .where(AppAction.ticket_id == ticket_id, AppAction.state == AppActionState.QUEUED)
            .order_by(AppAction.id)
        )
    )
