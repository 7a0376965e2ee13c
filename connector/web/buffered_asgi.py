"""The Flask (WSGI) app served by gunicorn's asyncio worker, each request read whole before a
thread runs it, so a slow client cannot hold a thread.

gunicorn's threaded worker gives a connection to a thread as soon as it is readable, and that
thread then blocks on the socket until headers and body have arrived (`--timeout` is a worker
heartbeat, not a read deadline): twelve clients that sent their headers and `{` of a 100 KB
body held every thread of `connector web` and `/healthz` stopped answering (bench/slow_clients.py
has the figures). Here the event loop reads the request, which costs a slow client a coroutine
and no thread; the app runs in a small thread pool only once the body is in memory:

- a body whose Content-Length is over the limit is not read; the app sees the length and
  refuses it (413), as it refuses a body without a length that grows past the limit;
- a body that has not arrived `read_deadline` seconds after its headers is answered 408;
- a client that hangs up mid-body gets nothing, and the app never sees a half body.

    gunicorn --worker-class asgi 'webhook_app:create_asgi_app()'
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BufferedWsgi:
    """An ASGI app running `app` (WSGI) on `threads` threads, its bodies read beforehand."""

    def __init__(
        self, app: WsgiApp, *, max_body_bytes: int, read_deadline: float, threads: int
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.read_deadline = read_deadline
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="web")

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"only HTTP is served here, not {scope['type']}")
        try:
            async with asyncio.timeout(self.read_deadline):
                body = await self._read_body(scope, receive)
        except TimeoutError:
            reason = f"the request body did not arrive within {self.read_deadline:g} s"
            await _answer(send, 408, {"status": "timeout", "reason": reason})
            return
        if body is None:
            return  # the client hung up: nobody to answer
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.pool, _run, self.app, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _read_body(self, scope: Message, receive: Receive) -> bytes | None:
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            return b""  # not read at all: the app refuses the declared length
        chunks, size = [], 0
        while size <= self.max_body_bytes:  # past the limit the app refuses what it holds
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    def close(self) -> None:
        self.pool.shutdown(wait=False)


def _run(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None  # the legacy write(): our app never uses it

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return int(status.split(" ", 1)[0]), encoded, content


def _environ(scope: Message, body: bytes) -> dict[str, Any]:
    """PEP 3333's environ from an ASGI scope (strings hold bytes as latin-1)."""
    root = scope.get("root_path", "")
    path = scope["path"].removeprefix(root) if root else scope["path"]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode().decode("latin-1"),
        "PATH_INFO": path.encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _header(scope: Message, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


async def _answer(send: Send, status: int, body: dict[str, str]) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
