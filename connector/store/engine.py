"""The engine under `Database`: how long each wait on the database may last, per process role,
and which errors mean a connection is unusable.

A sick database must not hang the web tier: Zendesk gives up on a webhook after about 12 s and
pauses webhooks that keep failing, so the web tier answers 503 in under 5 s and the sender
retries. Each wait is bounded:

- connecting (PostgreSQL `connect_timeout`, whole seconds, at least 2);
- a statement, on the server (`statement_timeout`) and, for a network that stopped forwarding
  (the server never sees the query, so its own timeout never fires), in the client: a wait for
  an answer later than the statement timeout plus a quarter of a second closes the
  connection;
- SQLite's lock (the busy timeout: how long a write waits for another writer).

A connection that hit "attempt to write a readonly database", a disk I/O error, a read-only
PostgreSQL (a standby after a failover) or the client deadline is dropped with the whole pool, so
a database that recovered is used again without a restart (`pool_pre_ping` cannot see a
read-only SQLite connection: reading still works).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

__all__ = ["Timeouts", "make_engine", "normalise_url"]

# Driver messages of a connection that will not work again, whatever is retried on it.
_UNUSABLE = (
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
    "no answer from the database",
    "read-only transaction",
)
_CLIENT_MARGIN_SECONDS = 0.25


@dataclass(frozen=True)
class Timeouts:
    """How long a process waits on its database (seconds; a statement limit of 0 is none)."""

    connect: float = 10.0
    statement: float = 0.0
    busy: float = 30.0


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver we install)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    url, timeouts = normalise_url(url), timeouts or Timeouts()
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": timeouts.busy, "check_same_thread": False},
            pool_timeout=timeouts.connect,
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, timeouts.busy))
    else:
        connect_args: dict[str, Any] = {"connect_timeout": max(2, math.ceil(timeouts.connect))}
        if timeouts.statement:
            milliseconds = math.ceil(timeouts.statement * 1000)
            connect_args["options"] = f"-c statement_timeout={milliseconds}"
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            pool_timeout=timeouts.connect,
            connect_args=connect_args,
        )
        if timeouts.statement:
            answer = timeouts.statement + _CLIENT_MARGIN_SECONDS
            event.listen(engine, "do_connect", partial(_bounded_connect, answer))
    event.listen(engine, "handle_error", _drop_unusable_connections)
    return engine


def _sqlite_pragmas(busy_seconds: float, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _drop_unusable_connections(context: ExceptionContext) -> None:
    message = str(context.original_exception).lower()
    if any(sign in message for sign in _UNUSABLE):
        context.is_disconnect = True  # the connection, and the rest of the pool, are replaced


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `answer_seconds` for any answer, then closes."""

    answer_seconds: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = timeout if timeout is not None else self.answer_seconds
        try:
            return super().wait(gen, interval, limit)
        except psycopg.OperationalError as exc:
            if type(exc).__name__ != "_WaitTimeout":  # psycopg's own, not public
                raise
            self.pgconn.finish()  # mid-protocol: the connection cannot be used again
            raise psycopg.OperationalError(
                f"no answer from the database within {limit:g} s"
            ) from None


def _bounded_connect(
    answer_seconds: float, _dialect: Any, _record: Any, cargs: Any, cparams: Any
) -> BoundedConnection:
    connection = BoundedConnection.connect(*cargs, **cparams)
    connection.answer_seconds = answer_seconds
    return connection
