"""A `requests.Session` that points zenpy at a local Zendesk sandbox without ZENPY_FORCE_* env vars.

zenpy builds `https://<subdomain>.zendesk.com/api/v2/...`; this session sends those requests to the
sandbox instead. zenpy picks its response handler by checking that `response.request.url`
contains its own base URL, so the answer's URLs are rewritten back to the Zendesk form (this also
covers pagination links, which the sandbox writes with its own address).
"""

from __future__ import annotations

from typing import Any

import requests
from zenpy import Zenpy

SUBDOMAIN = "sandbox"


class SandboxSession(requests.Session):
    def __init__(self, sandbox_url: str, subdomain: str = SUBDOMAIN) -> None:
        super().__init__()
        self.sandbox_url = sandbox_url.rstrip("/")
        self.zendesk_url = f"https://{subdomain}.zendesk.com"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        public = str(url).replace(self.sandbox_url, self.zendesk_url, 1)
        wire = public.replace(self.zendesk_url, self.sandbox_url, 1)
        response = super().request(method, wire, *args, **kwargs)
        response.url = public
        if response.request is not None:
            response.request.url = public
        return response


def zenpy_client(
    sandbox_url: str, email: str = "admin@example.com", token: str = "sandbox", **kwargs: Any
) -> Zenpy:
    session = SandboxSession(sandbox_url)
    client = Zenpy(subdomain=SUBDOMAIN, email=email, token=token, session=session, **kwargs)
    # zenpy's object cache answers `tickets.incidents(problem_id)` with the cached problem ticket
    # and serves stale objects; tests (like the connector) want what the server says.
    client.disable_caching()
    return client


class Receiver:
    """A local HTTP endpoint that records webhook deliveries and answers with scripted codes."""

    def __init__(self, codes: list[int] | None = None) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict[str, Any]] = []
        self.codes = list(codes or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append({"headers": headers, "body": raw.decode()})
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self) -> list[Any]:
        import json

        return [json.loads(r["body"]) for r in self.received]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
