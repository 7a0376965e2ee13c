"""Run a WSGI app on a background thread, on an ephemeral port, for tests, the demo and the CLI."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the sandboxes and tests make thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class BackgroundServer:
    """A threaded werkzeug server that can be started and stopped from Python."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server is not running")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> str:
        self._server = make_server(
            self._host, self._port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns at once
            name=f"sandbox-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Block in the calling thread (the `connector sandbox` command)."""
        self._server = make_server(
            self._host, self._port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
