"""Slow clients against the real `connector web`: they cost no thread, their bodies are bounded
before they are read, and a body that does not arrive in time is answered 408."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import requests
from test_webhooks_resilience import TRIGGER, ZENDESK_SECRET, zendesk_headers
from waiting import wait_until
from web_process import connector_web

HUNDRED_KB_HEAD = (
    b"POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
)


def open_mid_body(port: int) -> socket.socket:
    """A client that sent a webhook's headers and `{` of its 100 KB body, and then nothing."""
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(HUNDRED_KB_HEAD + b"{")
    return client


def unanswered(client: socket.socket) -> bool:
    client.setblocking(False)
    try:
        client.recv(1, socket.MSG_PEEK)  # an answer, or the end of the connection
        return False
    except BlockingIOError:
        return True  # nothing yet: the server still waits for this body
    finally:
        client.setblocking(True)


def answer(client: socket.socket) -> bytes:
    client.settimeout(30)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = client.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


def test_twelve_clients_stalled_mid_body_leave_healthz_and_webhooks_answering(
    tmp_path: Path,
) -> None:
    settings = {"zendesk_webhook_secret": ZENDESK_SECRET, "web_read_deadline_seconds": "120"}
    with connector_web(tmp_path, **settings) as web, ExitStack() as held:
        clients = [held.enter_context(open_mid_body(web.port)) for _ in range(12)]

        assert requests.get(f"{web.url}/healthz", timeout=10).json() == {"status": "ok"}
        delivered = requests.post(
            f"{web.url}/webhooks/zendesk",
            data=TRIGGER,
            headers={"Content-Type": "application/json", **zendesk_headers(TRIGGER)},
            timeout=10,
        )
        assert delivered.status_code == 202, delivered.text
        assert all(unanswered(c) for c in clients)  # still held open, mid-body, meanwhile


def drip(client: socket.socket, stop: threading.Event) -> None:
    """A byte of the body every 0.1 s: never idle for long, never done."""
    while not stop.wait(0.1):
        try:
            client.sendall(b" ")
        except OSError:
            return


def test_a_body_not_in_by_the_deadline_is_408_whether_stalled_or_dripped(tmp_path: Path) -> None:
    with connector_web(tmp_path, workers=1, web_read_deadline_seconds="1") as web:
        stalled, dripping = open_mid_body(web.port), open_mid_body(web.port)
        stop = threading.Event()
        dripper = threading.Thread(target=drip, args=(dripping, stop))
        dripper.start()
        try:
            for client in (stalled, dripping):
                wait_until(lambda c=client: not unanswered(c), 30, "the slow client's answer")
                received = answer(client)
                assert received.startswith(b"HTTP/1.1 408"), received
        finally:
            stop.set()
            dripper.join()
            stalled.close()
            dripping.close()
        assert requests.get(f"{web.url}/healthz", timeout=10).status_code == 200


def test_bodies_over_the_limit_are_refused_before_they_are_read(tmp_path: Path) -> None:
    limit = 2_000
    settings = {"webhook_max_body_bytes": str(limit), "zendesk_webhook_secret": ZENDESK_SECRET}
    with connector_web(tmp_path, workers=1, **settings) as web:
        # Only the headers are sent: the 413 comes without waiting for a body never sent.
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as claims_too_much:
            claims_too_much.sendall(HUNDRED_KB_HEAD)
            assert answer(claims_too_much).startswith(b"HTTP/1.1 413")

        def chunks() -> Iterator[bytes]:
            yield b"{" + b" " * limit
            yield b"}"

        body = b"{" + b" " * limit + b"}"
        chunked = requests.post(
            f"{web.url}/webhooks/zendesk",
            data=chunks(),  # a generator: sent chunked, without a Content-Length
            headers={"Content-Type": "application/json", **zendesk_headers(body)},
            timeout=10,
        )
        assert chunked.status_code == 413, chunked.text
        assert chunked.json()["status"] == "too_large"
