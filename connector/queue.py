"""The task queue (Huey): SQLite storage by default, Redis when CONNECTOR_REDIS_URL is set.

Tasks are triggers, not state: each re-reads the database, so a lost or repeated task is harmless.
"""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from connector.settings import Settings


def build_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """Create the Huey instance; nothing connects until it is used."""
    if settings.redis_url:
        return RedisHuey(settings.queue_name, url=settings.redis_url, immediate=immediate)
    return SqliteHuey(settings.queue_name, filename=settings.queue_path, immediate=immediate)


def create_consumer(huey: Huey, settings: Settings, workers: int | None = None) -> Consumer:
    """The worker's consumer (`connector worker`; the latency bench runs the same one)."""
    return huey.create_consumer(
        workers=workers or settings.worker_threads,
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
        # Huey backs an idle worker off to 10 s between polls by default: a first event would
        # wait that long. A poll of an empty queue is one cheap SELECT.
        initial_delay=min(0.1, settings.worker_poll_seconds),
        max_delay=settings.worker_poll_seconds,
        graceful_signal="TERM",  # SIGTERM finishes running tasks; queued ones stay queued.
    )


def queue_depth(huey: Huey) -> int:
    return int(huey.pending_count())


def ping_queue(huey: Huey) -> None:
    """Raise if the queue's storage cannot be reached."""
    huey.pending_count()
