"""The web tier: webhooks in; health, readiness, metrics, the dashboard and the admin API out.
Built by a factory; nothing connects at import time.

    gunicorn 'webhook_app:create_app()'   (the top-level module re-exports this factory)
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify

from connector.bootstrap import WebContext
from connector.config import Config
from connector.logs import log_event
from connector.ops.context import AppContext
from connector.ops.metrics import metrics_view
from connector.queue import ping_queue
from connector.settings import Settings
from connector.web import admin_auth
from connector.web.api import build_api
from connector.web.dashboard import build_dashboard
from connector.web.sidebar import build_sidebar
from connector.web.webhooks import build_webhooks

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    config: Config | None = None,
    runtime: AppContext | None = None,
) -> Flask:
    """The web tier: `runtime` is a web context built from the settings and config unless one
    is given (the demo and tests share theirs with a worker)."""
    runtime = runtime or WebContext(settings, config)
    app = Flask("connector")
    app.config["RUNTIME"] = runtime
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.webhook_max_body_bytes
    app.register_blueprint(build_webhooks(runtime))
    app.register_blueprint(build_dashboard(runtime))
    app.register_blueprint(build_api(runtime))
    app.register_blueprint(build_sidebar(runtime))
    app.add_url_rule("/metrics", "metrics", metrics_view(runtime))

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        # The driver's text names hosts, ports and databases: only an admin (bearer token)
        # reads it here; everyone else gets the kind of failure, and the log has it all.
        detailed = admin_auth.bearer_ok(runtime)
        checks: dict[str, str] = {}
        for name, probe in (
            ("database", runtime.db.check_writable),
            ("queue", lambda: ping_queue(runtime.huey)),
        ):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:
                full = f"unreachable: {type(exc).__name__}: {exc}"[:300]
                checks[name] = full if detailed else f"unreachable: {type(exc).__name__}"
                log_event(log, "readyz.failed", level=logging.WARNING, check=name, error=full)
        ready = all(value == "ok" for value in checks.values())
        return jsonify(status="ready" if ready else "unavailable", checks=checks), (
            200 if ready else 503
        )

    return app
