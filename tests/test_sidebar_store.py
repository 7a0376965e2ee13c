"""The sidebar's rows on SQLite and PostgreSQL: migration 0011, the installation, sessions kept
as hashes, access checks asked once, actions finished once."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select

from connector.store import sidebar as app_rows
from connector.store.db import Database
from connector.store.migrate import alembic_config, upgrade
from connector.store.models import AppActionState, AppSession, utcnow

URL = "https://acme.zendesk.com"
AGENT, TICKET = 361_000_000_002, 9_000_000_000  # Zendesk ids beyond 32 bits fit


def test_the_sidebar_rows(database_url: str) -> None:
    upgrade(database_url)
    db = Database(database_url)
    try:
        app_rows.record_install(db, URL, 5, 77, "a" * 64, "PEM")
        app_rows.record_install(db, URL, 5, 78, "b" * 64, "PEM2")  # an update, same row
        found = app_rows.install_of(db, URL)
        assert found is not None and (found.installation_id, found.public_key) == (78, "PEM2")

        now = utcnow()
        token = app_rows.open_session(db, AGENT, now, timedelta(minutes=30))
        assert app_rows.session_user(db, token, now) == AGENT
        assert app_rows.session_user(db, token, now + timedelta(minutes=31)) is None
        with db.session() as session:
            stored = session.scalars(select(AppSession.token_hash)).all()
        assert token not in stored and len(stored[0]) == 64  # only its hash

        wait = timedelta(minutes=1)
        with db.session() as session:
            assert app_rows.request_access_check(session, AGENT, TICKET, now, wait)
        with db.session() as session:
            assert not app_rows.request_access_check(session, AGENT, TICKET, now, wait)
            app_rows.record_access(session, AGENT, TICKET, False, "restricted", now)
        with db.session() as session:
            row = app_rows.access_of(session, AGENT, TICKET)
            assert row is not None and row.allowed is False

        action_id = app_rows.add_action(db, TICKET, AGENT, "create", None, "billing")
        with db.session() as session:
            app_rows.finish_action(session, action_id, AppActionState.DONE, "Created", now)
            app_rows.finish_action(session, action_id, AppActionState.FAILED, "late", now)
        with db.session() as session:
            action = app_rows.action(session, action_id)
            assert action is not None and (action.state, action.message) == (
                AppActionState.DONE,
                "Created",
            )
            assert app_rows.waiting_actions(session, TICKET) == []
        app_rows.forget_install(db, URL)
        assert app_rows.install_of(db, URL) is None
    finally:
        db.dispose()
    command.downgrade(alembic_config(database_url), "0009")  # the migration goes back cleanly
    upgrade(database_url)
