"""The web tier's factory, health and readiness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connector.bootstrap import WorkerContext as Runtime
from connector.config import load_config
from connector.settings import Settings
from connector.store.migrate import upgrade
from connector.webhook_app import create_app

NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise AssertionError("connected at import or build time")
socket.socket.connect = refuse
from webhook_app import create_app  # the installed top-level module gunicorn is pointed at
create_app()
print("built")
"""


def test_importing_and_building_the_app_connects_to_nothing(tmp_path: Path) -> None:
    # Run outside the checkout (cwd = tmp_path): `webhook_app` comes from the installed copy.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env["CONNECTOR_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "built", result.stderr
    assert list(tmp_path.iterdir()) == []  # not even the SQLite file was created


def test_healthz_and_readyz(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


def test_readyz_is_503_with_the_reason_when_the_database_is_down(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://postgres@127.0.0.1:1/nowhere",
        queue_path=str(tmp_path / "q.db"),
    )
    client = create_app(settings, load_config()).test_client()  # building it connects to nothing
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    assert ready.json["checks"]["queue"] == "ok"
    assert ready.json["checks"]["database"] == "unreachable: OperationalError"  # no driver text


def test_readyz_is_503_when_the_queue_is_down(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        redis_url="redis://127.0.0.1:1/0",
    )
    upgrade(settings.database_url)  # readiness writes: a database without its schema is not ready
    ready = create_app(settings, load_config()).test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["queue"] == "unreachable: ConnectionError"


def test_readyz_shows_the_driver_text_to_an_admin_only(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://postgres@127.0.0.1:1/nowhere",
        queue_path=str(tmp_path / "q.db"),
        admin_token="admin-readyz-token",
    )
    client = create_app(settings, load_config()).test_client()
    public = client.get("/readyz").json["checks"]["database"]
    assert "127.0.0.1" not in public and "nowhere" not in public
    admin = client.get("/readyz", headers={"Authorization": "Bearer admin-readyz-token"})
    assert admin.status_code == 503
    assert admin.json["checks"]["database"].startswith("unreachable: OperationalError: ")
    assert "127.0.0.1" in admin.json["checks"]["database"]
