"""The web tier's entry point, as the design card names it: `gunicorn 'webhook_app:create_app()'`.

Importing this builds and connects nothing. `create_app()` builds the Flask app from the
settings (environment or `.env`) and the config file, connects on first use, and sets up this
process's logging as `connector worker` does (level, JSON lines, the formatter that redacts
secrets): under gunicorn, nobody else would. `connector web` serves `create_asgi_app()`: the
same app behind gunicorn's asyncio worker, each request read before a thread runs it
(`connector/web/buffered_asgi.py`).
"""

from __future__ import annotations

from flask import Flask

from connector.config import Config
from connector.logs import configure_logging
from connector.settings import Settings
from connector.web.buffered_asgi import BufferedWsgi
from connector.webhook_app import create_app as build_app

__all__ = ["create_app", "create_asgi_app"]


def create_app(settings: Settings | None = None, config: Config | None = None) -> Flask:
    app = build_app(settings, config)
    settings = app.config["RUNTIME"].settings
    configure_logging(settings.log_level, settings.log_json)
    return app


def create_asgi_app(settings: Settings | None = None, config: Config | None = None) -> BufferedWsgi:
    app = create_app(settings, config)
    settings = app.config["RUNTIME"].settings
    return BufferedWsgi(
        app,
        max_body_bytes=settings.webhook_max_body_bytes,
        read_deadline=settings.web_read_deadline_seconds,
        threads=settings.web_threads,
    )
