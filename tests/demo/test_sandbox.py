"""The demo's mail sandbox: a real SMTP server that keeps what it gets, and the prospects' pages."""

from __future__ import annotations

import http.client
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.demo.sandbox import (
    Sandbox,
    SandboxPorts,
    free_port,
    page_path,
    publish_page,
)

LOGIN = ("outreach@sample-site.example", "demo-password")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path / "sandbox", SandboxPorts(free_port(), free_port(), free_port()), LOGIN)
    box.start()
    try:
        yield box
    finally:
        box.stop()


def _message(to: str) -> bytes:
    return (
        f"From: {LOGIN[0]}\r\nTo: {to}\r\nSubject: Hello\r\nMessage-ID: <m1@sample-site.example>"
        "\r\n\r\nHi there\r\n"
    ).encode()


def test_the_smtp_server_keeps_every_message_and_relays_none(sandbox: Sandbox) -> None:
    with smtplib.SMTP("127.0.0.1", sandbox.ports.smtp, timeout=10) as smtp:
        smtp.login(*LOGIN)
        refused = smtp.sendmail(LOGIN[0], ["alex@roadmapguide.net"], _message("alex@x.example"))
    assert refused == {}
    kept = sorted(sandbox.sent.glob("*.eml"))
    assert len(kept) == 1
    assert b"Message-ID: <m1@sample-site.example>" in kept[0].read_bytes()


def test_a_wrong_password_is_refused_like_a_real_server(sandbox: Sandbox) -> None:
    with (
        smtplib.SMTP("127.0.0.1", sandbox.ports.smtp, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPAuthenticationError),
    ):
        smtp.login(LOGIN[0], "wrong")
    assert not list(sandbox.sent.glob("*.eml"))


def _get(port: int, target: str, host: str | None = None, method: str = "GET") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, target, headers={"Host": host} if host else {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_published_pages_are_served_as_a_proxy_and_by_host(sandbox: Sandbox) -> None:
    publish_page(sandbox.folder, "http://roadmapguide.net/resources/", "<a href='x'>ours</a>")
    port = sandbox.ports.pages
    assert _get(port, "http://roadmapguide.net/resources/") == (200, "<a href='x'>ours</a>")
    assert _get(port, "/resources/", host="roadmapguide.net")[0] == 200
    assert _get(port, "http://roadmapguide.net/other/")[0] == 404
    assert _get(port, "roadmapguide.net:443", method="CONNECT")[0] == 502


def test_page_paths_never_leave_the_pages_folder(tmp_path: Path) -> None:
    assert page_path(tmp_path, "a.example", "/../../etc/passwd") is None
    assert page_path(tmp_path, "../x", "/") is None
    assert page_path(tmp_path, "A.Example:80", "/r/") == tmp_path / "pages/a.example/r/index.html"
    with pytest.raises(ValueError):
        publish_page(tmp_path, "https://a.example/r/", "x")


def test_ports_are_remembered_for_the_web_process(tmp_path: Path) -> None:
    ports = SandboxPorts(2525, 1143, 8080)
    ports.save(tmp_path)
    assert SandboxPorts.load(tmp_path) == ports
    assert SandboxPorts.load(tmp_path / "missing") is None
