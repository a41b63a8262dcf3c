"""`crm up` (what `make run` runs): the web process and the worker, started and stopped together."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from crm.commands import up as up_module
from crm.commands.up import ChildSpec, port_problem, public_url, supervise

pytestmark = pytest.mark.postgres


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _alive(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state says it has exited.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _sleeper(pid_file: Path) -> ChildSpec:
    code = f"import os,time; open({str(pid_file)!r},'w').write(str(os.getpid())); time.sleep(60)"
    return ChildSpec("web", _python(code))


def _wait_for(predicate: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_a_crashed_child_is_reported_and_the_others_are_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "web.pid"
    said: list[str] = []
    crash = ChildSpec("worker", _python("import time; time.sleep(1); raise SystemExit(3)"))
    code = supervise([_sleeper(pid_file), crash], os.environ, say=said.append, poll_seconds=0.05)
    assert code == 3
    assert "worker exited with code 3; stopping the others" in said
    assert not _alive(pid_file), "the web process was left running"


def test_a_stop_signal_stops_every_child_and_exits_cleanly(tmp_path: Path) -> None:
    pid_file = tmp_path / "web.pid"
    worker_pid = tmp_path / "worker.pid"
    worker = _sleeper(worker_pid)
    children = [_sleeper(pid_file), ChildSpec("worker", worker.argv)]

    def stop_when_started() -> None:
        _wait_for(lambda: pid_file.exists() and worker_pid.exists())
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_when_started, daemon=True).start()
    said: list[str] = []
    assert supervise(children, os.environ, say=said.append, poll_seconds=0.05) == 0
    assert not _alive(pid_file) and not _alive(worker_pid)
    assert said == ["stopping web, worker ..."]


def test_the_url_is_the_one_really_served() -> None:
    assert public_url("127.0.0.1", 5051) == "http://127.0.0.1:5051"
    assert public_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"


def test_a_port_in_use_is_refused_with_a_suggestion() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problem = port_problem("127.0.0.1", port)
    assert problem is not None
    assert f"cannot listen on 127.0.0.1:{port}" in problem and f"PORT={port + 1}" in problem


def test_up_seeds_the_demo_prints_every_login_and_points_links_at_its_port(
    app: Flask, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRM_BASE_URL", raising=False)
    seen: dict[str, Any] = {}

    def fake_supervise(children: list[ChildSpec], env: dict[str, str], **_: Any) -> int:
        seen.update(children=children, env=env)
        return 0

    monkeypatch.setattr(up_module, "supervise", fake_supervise)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = app.test_cli_runner().invoke(args=["up", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert f"open http://127.0.0.1:{port}" in result.stdout
    for login in ("admin@demo", "manager@demo", "specialist@demo"):
        assert login in result.stdout
    env = seen["env"]
    assert env["CRM_BASE_URL"] == f"http://127.0.0.1:{port}"
    names = [c.name for c in seen["children"]]
    assert names == ["imap sandbox", "mail sandbox", "web", "worker"]
    web, worker = seen["children"][2:]
    assert web.argv[-4:] == ["--host", "127.0.0.1", "--port", str(port)]
    assert worker.argv[-1] == "worker"
    assert "This is a demo: its mail goes to a sandbox on 127.0.0.1" in result.stdout
    assert env["CRM_DEMO_SANDBOX"] and env["HTTP_PROXY"].startswith("http://127.0.0.1:")


def test_a_real_workspace_gets_no_sandbox_and_no_proxy(
    app: Flask, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    seen: dict[str, Any] = {}

    def fake_supervise(children: list[ChildSpec], env: dict[str, str], **_: Any) -> int:
        seen.update(children=children, env=env)
        return 0

    monkeypatch.setattr(up_module, "supervise", fake_supervise)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = app.test_cli_runner().invoke(args=["up", "--port", str(port), "--no-demo"])
    assert result.exit_code == 0, result.output
    assert [c.name for c in seen["children"]] == ["web", "worker"]
    assert "CRM_DEMO_SANDBOX" not in seen["env"] and "HTTP_PROXY" not in seen["env"]
    assert "demo" not in result.stdout


def test_up_runs_the_web_app_and_the_worker_until_interrupted(tmp_path: Path) -> None:
    """The real thing, as `make run` starts it, on a fresh SQLite database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["CRM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'run.db'}"
    env["CRM_SECRET_KEY"] = "test-secret"
    env["PYTHONUNBUFFERED"] = "1"
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    crm = [sys.executable, "-m", "crm.cli"]
    subprocess.run([*crm, "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*crm, "up", "--port", str(port), "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()

    def serves() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    try:
        _wait_for(lambda: any(re.match(r"crm worker \S+: send-due", line) for line in lines), 90)
        _wait_for(serves, 60)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=5)
        proc.stdout.close()
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert lines[0].strip() == f"Linkgap: open http://127.0.0.1:{port}"
    assert not serves()


def test_an_unmigrated_database_gets_a_one_line_message_not_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["CRM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    env["CRM_SECRET_KEY"] = "test-secret"
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "crm.cli", "up", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "the database is not ready (run `crm db upgrade`" in done.stderr
    assert "Traceback" not in done.stderr
