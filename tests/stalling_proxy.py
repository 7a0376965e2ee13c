"""A TCP proxy that can stop forwarding, as a network or database host that hangs does: the
connections stay open and nothing comes back, so only the client's own deadlines help."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StallingProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.forwarding = threading.Event()
        self.forwarding.set()
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.forwarding.clear()

    def resume(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _pump(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):  # either side hung up: so does the proxy
            self._forward(client)

    def _forward(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.upstream) as server:
            peers = {client: server, server: client}
            while not self._closed.is_set():
                if not self.forwarding.wait(0.1):
                    continue  # stalled: read nothing, forward nothing, keep both open
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    if not self.forwarding.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)


@contextmanager
def stalling_proxy(host: str, port: int) -> Iterator[StallingProxy]:
    proxy = StallingProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.close()
