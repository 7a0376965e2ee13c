"""The task queue (Huey): SQLite storage by default, Redis when CONNECTOR_REDIS_URL is set.

Tasks are triggers, not state: each re-reads the database, so a lost or repeated task is harmless.
"""

from __future__ import annotations

from huey import Huey, RedisHuey, SqliteHuey

from connector.settings import Settings


def build_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """Create the Huey instance; nothing connects until it is used."""
    if settings.redis_url:
        return RedisHuey(settings.queue_name, url=settings.redis_url, immediate=immediate)
    return SqliteHuey(settings.queue_name, filename=settings.queue_path, immediate=immediate)


def queue_depth(huey: Huey) -> int:
    return int(huey.pending_count())


def ping_queue(huey: Huey) -> None:
    """Raise if the queue's storage cannot be reached."""
    huey.pending_count()
