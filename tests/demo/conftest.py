"""The live demo world: the demo workspace without its history, on a running sandbox."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from crm.demo import seed
from crm.demo.live import demo_mailbox, make_demo_live, sandbox_login
from crm.demo.mailbox import add_demo_mailbox
from crm.demo.sandbox import Sandbox, SandboxPorts, free_port, imap_argv
from crm.gap.demo import import_demo_gap
from crm.models import utcnow


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # A sequence day of a second: the 4-touch cadence (days 1, 4, 9, 14) within the loop.
    return {**app_config, "SEND_MAX_JITTER_SECONDS": 0, "SEQUENCE_DAY_SECONDS": 1,
            "DEMO_SANDBOX": str(tmp_path / "sandbox")}  # fmt: skip


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def live_demo(
    app: Flask, db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A demo workspace without its made-up history, live on a running sandbox."""
    monkeypatch.setattr(seed, "DEMO_STEPS", [import_demo_gap, add_demo_mailbox])
    seed.seed_demo_workspace()
    db.session.commit()
    folder = tmp_path / "sandbox"
    ports = SandboxPorts(free_port(), free_port(), free_port())
    mailbox = demo_mailbox()
    assert mailbox is not None
    login = sandbox_login(mailbox)
    imap = subprocess.Popen(imap_argv(sys.executable, ports.imap, login))
    sandbox = Sandbox(folder, ports, login)
    sandbox.start()
    proxy = f"http://127.0.0.1:{ports.pages}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    try:
        deadline = time.monotonic() + 30
        while not _listening(ports.imap):
            assert time.monotonic() < deadline, "pymap did not start"
            time.sleep(0.1)
        assert make_demo_live(folder, ports, utcnow()) == 12
        mailbox.min_spacing_seconds = 0  # the test does not wait between sends
        db.session.commit()
        yield folder
    finally:
        sandbox.stop()
        imap.terminate()
        imap.wait(timeout=10)
