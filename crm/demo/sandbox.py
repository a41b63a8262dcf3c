"""The demo's mail sandbox: a real SMTP server, and the pages prospects put links on.

`crm up` runs it (as `crm demo-sandbox`) next to an in-memory IMAP server
(pymap's dict backend) when the demo workspace exists. Both listen on free
ports of 127.0.0.1 only. Every message the SMTP server accepts is kept as a
file under the sandbox folder, so the demo can show what it "sent"; nothing
is relayed anywhere.

The page server answers as a forward proxy (absolute-URI GET) and by Host
header: the link checker reaches `http://<prospect domain>/...` through it with
HTTP_PROXY, so no name is resolved and nothing leaves the machine. HTTPS is
refused (CONNECT gets 502): the demo's pages are plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PORTS_FILE = "ports.json"
SENT_FOLDER = "sent"
ANSWERS_FOLDER = "answers"
PAGES_FOLDER = "pages"
_SAFE_PART = re.compile(r"^[A-Za-z0-9._~-]+$")


@dataclass(frozen=True)
class SandboxPorts:
    """Where the sandbox listens, all on 127.0.0.1."""

    smtp: int
    imap: int
    pages: int

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PORTS_FILE).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, folder: Path) -> SandboxPorts | None:
        try:
            raw = json.loads((folder / PORTS_FILE).read_text())
            return cls(int(raw["smtp"]), int(raw["imap"]), int(raw["pages"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def free_port() -> int:
    """Return a port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def store_message(folder: Path, raw: bytes, now: float | None = None) -> Path:
    """Keep one message as an .eml file named so that names sort by arrival."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = int((now if now is not None else time.time()) * 1_000_000)
    for n in range(1000):
        path = folder / f"{stamp:020d}-{n:03d}.eml"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        return path
    raise OSError(f"cannot name a new message in {folder}")


def page_path(folder: Path, host: str, path: str) -> Path | None:
    """Return the file that serves http://host/path, or None for a name we never serve."""
    host = host.lower().rstrip(".").partition(":")[0]
    parts = [p for p in path.split("?")[0].split("/") if p]
    if not _SAFE_PART.match(host) or not all(_SAFE_PART.match(p) and p != ".." for p in parts):
        return None
    return folder / PAGES_FOLDER / host / Path(*parts, "index.html")


def publish_page(folder: Path, url: str, html: str) -> Path:
    """Write the page served at an http:// URL of the sandbox."""
    parts = urlsplit(url)
    target = page_path(folder, parts.hostname or "", parts.path)
    if parts.scheme != "http" or target is None:
        raise ValueError(f"the sandbox serves plain http pages of simple paths only: {url}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, folder: Path) -> None:
        self.folder = folder
        super().__init__(("127.0.0.1", port), _PageHandler)


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("http://"):
            parts = urlsplit(self.path)
            host, path = parts.hostname or "", parts.path
        else:
            host, path = self.headers.get("Host", ""), self.path
        target = page_path(self.server.folder, host, path)
        if target is None or not target.is_file():
            self._send(404, b"<!doctype html><title>Not found</title><p>No such page.</p>")
            return
        self._send(200, target.read_bytes())

    do_HEAD = do_GET

    def do_CONNECT(self) -> None:
        self._send(502, b"the demo sandbox serves plain http pages only", "text/plain")


class Sandbox:
    """The SMTP server and the page server, started and stopped together."""

    def __init__(self, folder: Path, ports: SandboxPorts, login: tuple[str, str]) -> None:
        from aiosmtpd.controller import Controller

        self.folder = folder
        self.ports = ports
        self.sent = folder / SENT_FOLDER
        self._smtp = Controller(
            _Keep(self.sent),
            hostname="127.0.0.1",
            port=ports.smtp,
            server_hostname="sandbox.linkgap.invalid",
            ident="Linkgap demo sandbox",
            authenticator=_Login(login),
            auth_require_tls=False,  # 127.0.0.1 only, and the demo's password is no secret
            enable_SMTPUTF8=True,
        )
        self._pages = _PageServer(ports.pages, folder)
        self._serving = threading.Thread(target=self._pages.serve_forever, daemon=True)

    def start(self) -> None:
        with warnings.catch_warnings():
            # aiosmtpd's own Session.login_data, read inside the library.
            warnings.simplefilter("ignore", DeprecationWarning)
            self._smtp.start()
        self._serving.start()

    def stop(self) -> None:
        self._pages.shutdown()
        self._pages.server_close()
        with contextlib.suppress(RuntimeError, asyncio.CancelledError):
            self._smtp.stop()


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        store_message(self.folder, raw if isinstance(raw, bytes) else raw.encode())
        return "250 Kept by the Linkgap demo sandbox (not delivered anywhere)"


class _Login:
    def __init__(self, login: tuple[str, str]) -> None:
        self.login = login

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(errors="replace"),
                data.password.decode(errors="replace"),
            )
            == self.login
        )
        return AuthResult(success=ok, handled=False)


def run_sandbox(folder: Path, ports: SandboxPorts, login: tuple[str, str]) -> None:
    """Serve SMTP and the pages until SIGINT or SIGTERM; keep every message received."""
    # aiosmtpd warns about its own Session.login_data on every login.
    warnings.filterwarnings("ignore", message="Session.login_data", category=DeprecationWarning)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sandbox = Sandbox(folder, ports, login)
    sandbox.start()
    try:
        print(
            f"demo sandbox: SMTP on 127.0.0.1:{ports.smtp}, pages on 127.0.0.1:{ports.pages}, "
            f"mail kept in {sandbox.sent}",
            flush=True,
        )
        stop.wait()
    finally:
        sandbox.stop()


def imap_argv(python: str, port: int, login: tuple[str, str]) -> list[str]:
    """Return the command line of pymap's in-memory IMAP server for the demo mailbox."""
    code = "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; main()"
    return [
        python, "-c", code,
        "--no-service", "admin", "--no-service", "managesieve",
        "--host", "127.0.0.1", "--port", str(port), "--no-tls",
        "dict", "--demo-user", login[0], "--demo-password", login[1],
    ]  # fmt: skip
