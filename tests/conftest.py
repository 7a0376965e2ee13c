"""Shared fixtures: databases (SQLite and PostgreSQL), queues (SQLite and Redis), runtimes.

Tests that need PostgreSQL or Redis skip when the service is absent, except under CI=true,
where absence is a failure.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.bootstrap import WorkerContext as Runtime
from connector.config import load_config
from connector.settings import Settings
from connector.store.migrate import upgrade
from tests.service_urls import IN_CI, POSTGRES_ADMIN_URL, REDIS_TEST_URL

# The dashboard and API tests share their seeded runtime and client fixtures; the install and
# uninstall tests their bare stack.
pytest_plugins = ["ops_fixtures", "install_stack"]


def service_missing(name: str, reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    import psycopg

    if not _port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL", "nothing listens on 127.0.0.1:5432")
    name = f"connector_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    except psycopg.Error as exc:
        service_missing("PostgreSQL", str(exc))
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    if not _port_open("127.0.0.1", 6379):
        service_missing("Redis", "nothing listens on 127.0.0.1:6379")
    try:
        redis.Redis.from_url(REDIS_TEST_URL).ping()
    except redis.RedisError as exc:
        service_missing("Redis", str(exc))
    yield REDIS_TEST_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'connector.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        queue_path=str(tmp_path / "queue.db"),
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    upgrade(settings.database_url)
    rt = Runtime(settings, load_config())
    yield rt
    rt.close()


@pytest.fixture
def jira_deployment(request: pytest.FixtureRequest) -> str:
    """The Jira sandbox's deployment: Cloud unless a test is marked `both_jira`
    (tests/e2e/conftest.py)."""
    return str(getattr(request, "param", "Cloud"))
