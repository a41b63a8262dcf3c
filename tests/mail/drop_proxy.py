"""A TCP proxy on 127.0.0.1 that records what clients send and can cut a connection."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from dataclasses import dataclass


@dataclass
class _Link:
    """One proxied connection: whether it is being cut, and how much may still pass."""

    dropping: bool = False
    budget: int = 0


class DropProxy:
    """A TCP proxy on 127.0.0.1 that records what clients send and can cut a connection.

    `drop_after(marker, server_bytes)` arms it: once a client sends a command
    containing `marker`, at most `server_bytes` of the server's answer are passed
    on and then both sides are closed, as when a network drops mid-response.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = bytearray()  # everything clients sent, for asserting what was asked
        self._marker: bytes | None = None
        self._budget = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_after(self, marker: bytes, server_bytes: int = 0) -> None:
        with self._lock:
            self._marker, self._budget = marker, server_bytes

    def mark(self) -> int:
        """Return a position in `sent`; pass it to `sent_since`."""
        return len(self.sent)

    def sent_since(self, position: int) -> bytes:
        return bytes(self.sent[position:])

    def close(self) -> None:
        self._closed = True
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in its thread
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [downstream, upstream]
            link = _Link()
            threading.Thread(
                target=self._pump_up, args=(downstream, upstream, link), daemon=True
            ).start()
            threading.Thread(
                target=self._pump_down, args=(upstream, downstream, link), daemon=True
            ).start()

    def _pump_up(self, src: socket.socket, dst: socket.socket, link: _Link) -> None:
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            with self._lock:
                self.sent += chunk
                if self._marker is not None and self._marker in chunk:
                    link.dropping, link.budget = True, self._budget
                    self._marker = None
            try:
                dst.sendall(chunk)
            except OSError:
                break
        _shut(src, dst)

    def _pump_down(self, src: socket.socket, dst: socket.socket, link: _Link) -> None:
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            if link.dropping:
                with suppress(OSError):
                    dst.sendall(chunk[: link.budget])
                break
            try:
                dst.sendall(chunk)
            except OSError:
                break
        _shut(src, dst)


def _shut(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
