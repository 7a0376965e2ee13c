"""What the app sees behind the asyncio server (`connector/web/buffered_asgi.py`): the request
as a WSGI server would give it, the body whole, and nothing of a client that hung up."""

from __future__ import annotations

import asyncio
from typing import Any

from connector.web.buffered_asgi import BufferedWsgi

Message = dict[str, Any]


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    seen = {k: v for k, v in environ.items() if isinstance(v, str)}
    start_response("201 Created", [("X-Seen", repr(seen)), ("Set-Cookie", "a=1")])
    return [b"got:", body]


def serve(scope: Message, messages: list[Message], limit: int = 100) -> list[Message]:
    app = BufferedWsgi(echo, max_body_bytes=limit, read_deadline=5, threads=1)
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        asyncio.run(app(scope, receive, send))
    finally:
        app.close()
    return sent


def http_scope(**changes: Any) -> Message:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/api/problems/ü",
        "query_string": b"a=1&b=%20",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"x-forwarded-for", b"1.1.1.1"),
            (b"x-forwarded-for", b"2.2.2.2"),
            (b"cookie", b"session=abc"),
        ],
        "server": ("127.0.0.1", 8000),
        "client": ("10.0.0.7", 5555),
        **changes,
    }


def test_the_app_sees_a_wsgi_request_and_the_body_read_whole() -> None:
    parts = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.request", "body": b"}", "more_body": False},
    ]
    start, body = serve(http_scope(), parts)
    assert start["status"] == 201 and body["body"] == b"got:{}"
    headers = dict(start["headers"])
    assert headers[b"set-cookie"] == b"a=1"
    seen = eval(headers[b"x-seen"].decode("latin-1"))  # the repr of a dict of strings
    assert seen["PATH_INFO"] == "/api/problems/ü".encode().decode("latin-1")
    assert seen["QUERY_STRING"] == "a=1&b=%20" and seen["wsgi.url_scheme"] == "https"
    assert seen["CONTENT_TYPE"] == "application/json" and "CONTENT_LENGTH" not in seen
    assert seen["HTTP_X_FORWARDED_FOR"] == "1.1.1.1,2.2.2.2"
    assert seen["HTTP_COOKIE"] == "session=abc" and seen["REMOTE_ADDR"] == "10.0.0.7"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == ("127.0.0.1", "8000")


def test_a_client_that_hangs_up_mid_body_reaches_no_app() -> None:
    assert serve(http_scope(), [{"type": "http.request", "body": b"{", "more_body": True}]) == []


def test_a_body_growing_past_the_limit_is_not_read_further() -> None:
    parts = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 5
    _, body = serve(http_scope(), parts, limit=100)
    assert body["body"] == b"got:" + b"x" * 120  # the app refuses it: more than its limit
    assert len(parts) == 3  # the rest was never received


def test_a_declared_length_over_the_limit_is_not_read_at_all() -> None:
    parts = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 5
    scope = http_scope(headers=[(b"content-length", b"100000")])
    _, body = serve(scope, parts, limit=100)
    assert body["body"] == b"got:" and len(parts) == 5
