"""Storing inbound webhook deliveries, once each.

The unique constraints on (source, delivery_id) and (source, content_hash) decide what is a
duplicate, so concurrent deliveries on several processes or machines collide in the database
rather than in a check-then-insert race.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError

from connector.store.db import Database
from connector.store.models import InboundEvent

try:
    import fcntl
except ImportError:  # Windows: threads still queue, processes fall back on SQLite's retries
    fcntl = None  # type: ignore[assignment]


def store_event(
    db: Database,
    source: str,
    delivery_id: str,
    content_hash: str,
    event_type: str,
    subject_id: str | None,
    payload: dict[str, Any],
) -> int | None:
    """Insert and commit one event; its id, or None when it was already stored."""
    row = {
        "source": source,
        "delivery_id": delivery_id,
        "content_hash": content_hash,
        "event_type": event_type,
        "subject_id": subject_id,
        "payload": payload,
    }
    for attempt in (1, 2):
        try:
            return _insert(db, row)
        except IntegrityError:
            # Only a collision with a stored delivery is a duplicate; any other violation is a
            # bug and must not be acknowledged as if the event were safe.
            if _already_stored(db, source, delivery_id, content_hash):
                return None
            if attempt == 2:
                raise
            # Otherwise the row we collided with was processed meanwhile (the worker clears
            # its content hash): try once more.
    raise AssertionError("unreachable")


# Core with parameters, not the ORM unit of work nor `.values(**row)`: built and compiled once,
# so the hot path of every webhook is one cached statement.
_INSERT = insert(InboundEvent).returning(InboundEvent.id)


def _insert(db: Database, row: dict[str, Any]) -> int:
    with _write_turn(db), db.engine.begin() as connection:
        event_id: int = connection.execute(_INSERT, row).scalar_one()
        return event_id


def _already_stored(db: Database, source: str, delivery_id: str, content_hash: str) -> bool:
    with db.engine.connect() as connection:
        found = connection.scalar(
            select(InboundEvent.id)
            .where(
                InboundEvent.source == source,
                or_(
                    InboundEvent.delivery_id == delivery_id,
                    InboundEvent.content_hash == content_hash,
                ),
            )
            .limit(1)
        )
        return found is not None


# ---- SQLite: one writer at a time ------------------------------------------------------------
# A SQLite writer that finds the database locked sleeps in growing steps (up to 100 ms) before
# it retries, so under load web processes starve each other. Taking turns on a lock (threads on
# a mutex, processes on an flock of a file beside the database) wakes the next writer at once.
class _WriteTurn:
    def __init__(self, lock_path: str | None) -> None:
        self._threads = threading.Lock()
        self._lock_path = lock_path if fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._threads:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _file(self) -> int | None:
        if self._lock_path is None:
            return None
        if self._pid != os.getpid():  # an flock is shared with a forked child: reopen
            try:
                self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self._fd, self._lock_path = None, None
            self._pid = os.getpid()
        return self._fd


_TURNS: dict[str, _WriteTurn] = {}
_TURNS_LOCK = threading.Lock()


def _write_turn(db: Database) -> Any:
    if db.is_postgresql:
        return nullcontext()
    with _TURNS_LOCK:
        turn = _TURNS.get(db.url)
        if turn is None:
            path = db.engine.url.database
            on_disk = path and path != ":memory:" and not path.startswith("file:")
            turn = _TURNS[db.url] = _WriteTurn(f"{path}.write-lock" if on_disk else None)
    return turn()
