"""Alembic, driven from Python so `connector db upgrade` works from any directory.

Upgrades take a lock first, so processes started together (`connector web` and `connector
worker` on a new database, or several machines) migrate one after the other: the later ones
find the schema at head and do nothing. PostgreSQL: an advisory lock; SQLite: a file lock beside
the database file.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from connector.logs import log_event
from connector.store.db import Database, normalise_url

try:
    import fcntl
except ImportError:  # Windows: no file lock; start one process first there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every process: "the connector's schema migration".
ADVISORY_LOCK_KEY = 0x7A646A6972610001


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("connector") / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    with migration_lock(database_url):
        before = _revision(database_url)
        command.upgrade(alembic_config(database_url), revision)
        after = _revision(database_url)
    if after != before:
        log_event(log, "db.upgraded", from_revision=before, to_revision=after)


def _revision(database_url: str) -> str | None:
    engine = create_engine(normalise_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@contextlib.contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                try:
                    yield
                finally:
                    unlock = text("SELECT pg_advisory_unlock(:key)")
                    connection.execute(unlock, {"key": ADVISORY_LOCK_KEY})
        finally:
            engine.dispose()
        return
    path = sqlite_file(database_url)
    if fcntl is None or path is None:
        yield
        return
    fd = os.open(f"{path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database (relative to the working directory, as SQLite opens it);
    None for PostgreSQL or an in-memory database."""
    url = make_url(normalise_url(database_url))
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    return None if path.startswith("file:") else Path(path)


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_up_to_date(db: Database) -> bool:
    return current_revision(db) == head_revision(db.url)
