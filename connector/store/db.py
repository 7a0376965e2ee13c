"""Engine and sessions. SQLite runs in WAL mode with a busy timeout so web and worker share it;
how long each wait may last is the engine's (`engine.py`), set per process role.

`Session` is the unit of work `Database.session()` gives out; callers above the store name it
from here and hand it to the repositories, never query it themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from connector.store.engine import Timeouts, make_engine, normalise_url

__all__ = ["Database", "Session", "Timeouts", "make_engine", "normalise_url"]


_NO_OP_WRITE = "UPDATE alembic_version SET version_num = version_num WHERE 1 = 0"


class Database:
    """One engine and its session factory, built from a URL; connects lazily."""

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, timeouts)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def check_writable(self) -> None:
        """Raise unless a write would go through now: an update of no row, rolled back.

        It takes the write lock (SQLite) or a read-only check (PostgreSQL: a standby refuses
        it) for an instant and writes nothing; `SELECT 1` succeeds on a read-only database."""
        with self.engine.connect() as connection:
            connection.execute(text(_NO_OP_WRITE))
            connection.rollback()

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()
