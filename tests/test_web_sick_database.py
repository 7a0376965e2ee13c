"""A sick database: the web tier answers 503 within 5 s (Zendesk gives up after about 12 s and
pauses webhooks that keep failing), `/readyz` tells, `/healthz` keeps answering, and once the
database is well again the same processes use it: no restart."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from stalling_proxy import stalling_proxy
from test_webhooks_resilience import TRIGGER, ZENDESK_SECRET, post_zendesk, secrets, zendesk_headers
from waiting import wait_until
from web_process import connector_web

from connector.bootstrap import WebContext, WorkerContext
from connector.config import load_config
from connector.settings import Settings
from connector.store.migrate import upgrade
from connector.webhook_app import create_app
from tests.service_urls import POSTGRES_ADMIN_URL

SICK_DATABASE_ANSWER_SECONDS = 5.0  # the one timing bound: the requirement


def sqlite_settings(tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'connector.db'}",
        queue_path=str(tmp_path / "queue.db"),
    )
    return secrets(base, **changes)


def test_a_read_only_sqlite_file_is_503_and_not_ready_then_used_again_once_writable(
    tmp_path: Path,
) -> None:
    settings = sqlite_settings(tmp_path)
    upgrade(settings.database_url)
    app = create_app(settings, load_config())
    client = app.test_client()
    read_only = True
    # The worker has the file open in WAL mode, as it does while the web tier runs.
    worker_connection = sqlite3.connect(tmp_path / "connector.db")
    worker_connection.execute("PRAGMA journal_mode=WAL")

    # What a connection opened while the file was not writable is (SQLite then opens it
    # read-only without a word, and reads keep working on it); as root, chmod would not do.
    @event.listens_for(app.config["RUNTIME"].db.engine, "do_connect")
    def connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> Any:
        if not read_only:
            return None
        uri = f"file:{tmp_path / 'connector.db'}?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    began = time.monotonic()
    refused = post_zendesk(client, TRIGGER, "inv-read-only")
    assert refused.status_code == 503, refused.json
    assert time.monotonic() - began < SICK_DATABASE_ANSWER_SECONDS
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json == {
        "status": "unavailable",
        "checks": {"database": "unreachable: OperationalError", "queue": "ok"},
    }

    read_only = False  # the operator fixed the permissions; nothing is restarted
    accepted = post_zendesk(client, TRIGGER, "inv-writable")
    assert accepted.status_code == 202, accepted.json
    assert client.get("/readyz").status_code == 200
    worker_connection.close()


def test_the_web_tier_waits_seconds_for_a_sqlite_writer_the_worker_half_a_minute(
    tmp_path: Path,
) -> None:
    settings = sqlite_settings(tmp_path)
    upgrade(settings.database_url)
    web, worker = WebContext(settings, load_config()), WorkerContext(settings, load_config())
    holder = sqlite3.connect(tmp_path / "connector.db")
    holder.execute("BEGIN IMMEDIATE")  # another writer, holding the lock for as long as it likes
    try:
        began = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"), web.db.session() as s:
            s.execute(text("UPDATE alembic_version SET version_num = version_num"))
        assert time.monotonic() - began < SICK_DATABASE_ANSWER_SECONDS
        assert web.db_timeouts().busy <= 3 < worker.db_timeouts().busy
    finally:
        holder.rollback()
        holder.close()
        web.close()
        worker.close()


def test_postgresql_statements_of_the_web_tier_are_cut_short_not_the_workers(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = sqlite_settings(tmp_path, database_url=postgres_url)
    web, worker = WebContext(settings, load_config()), WorkerContext(settings, load_config())
    try:
        with pytest.raises(OperationalError, match="statement timeout"), web.db.session() as s:
            s.execute(text("SELECT pg_sleep(3)"))
        with worker.db.session() as session:
            session.execute(text("SELECT pg_sleep(3)"))
    finally:
        web.close()
        worker.close()


def test_a_stalled_postgresql_is_503_within_5_s_healthz_answers_and_it_recovers(
    postgres_url: str, tmp_path: Path
) -> None:
    host_port = postgres_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    with stalling_proxy(host, int(port)) as proxy:
        proxied = postgres_url.replace(f"@{host_port}/", f"@127.0.0.1:{proxy.port}/")
        settings = {"database_url": proxied, "zendesk_webhook_secret": ZENDESK_SECRET}
        with connector_web(tmp_path, **settings) as web:
            tickets = itertools.count(7000)

            def deliver() -> requests.Response:
                body = TRIGGER.replace(b"5201", str(next(tickets)).encode())  # never a duplicate
                headers = zendesk_headers(body, f"inv-{uuid.uuid4()}")
                headers["Content-Type"] = "application/json"
                return requests.post(
                    f"{web.url}/webhooks/zendesk", data=body, headers=headers, timeout=30
                )

            assert deliver().status_code == 202  # connections are pooled and in use

            proxy.stall()
            healthz: list[int] = []
            probing = threading.Event()

            def probe() -> None:
                while not probing.is_set():
                    healthz.append(requests.get(f"{web.url}/healthz", timeout=5).status_code)

            prober = threading.Thread(target=probe)
            prober.start()
            try:
                began = time.monotonic()
                refused = deliver()
                took = time.monotonic() - began
            finally:
                probing.set()
                prober.join()
            assert refused.status_code == 503, refused.text
            assert took < SICK_DATABASE_ANSWER_SECONDS, took
            assert healthz and set(healthz) == {200}  # answered all along

            proxy.resume()
            wait_until(lambda: deliver().status_code == 202, 30, "a webhook accepted again")


def test_a_read_only_postgresql_is_503_and_not_ready_then_used_again_once_writable(
    postgres_url: str, tmp_path: Path
) -> None:
    """As after a failover that left the pool on a standby (or an operator's read-only switch)."""
    settings = sqlite_settings(tmp_path, database_url=postgres_url)
    upgrade(settings.database_url)
    client = create_app(settings, load_config()).test_client()
    assert client.get("/readyz").status_code == 200  # the pool holds a connection now
    name = postgres_url.rsplit("/", 1)[1]

    def read_only(on: bool) -> None:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {on}')
            admin.execute(  # sessions take it at their start: make the pool start new ones
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    read_only(True)
    assert post_zendesk(client, TRIGGER, "inv-read-only").status_code == 503
    assert client.get("/readyz").status_code == 503
    read_only(False)
    assert post_zendesk(client, TRIGGER, "inv-writable").status_code == 202
    assert client.get("/readyz").status_code == 200
