"""`crm up`: the web process and `crm worker` together, as `make run` starts them.

The supervisor only starts, watches and stops processes: each child is an
ordinary `crm` command with its own app, so nothing here shares a database
connection or a scheduler with them. When one child exits on its own the
others are stopped and the exit is reported with its code; Ctrl-C (or SIGTERM)
stops all of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class ChildSpec:
    """One process to run: a name for messages and its command line."""

    name: str
    argv: list[str]


def crm_argv(*args: str) -> list[str]:
    """Return the command line of a `crm` sub-command run with this Python."""
    return [sys.executable, "-m", "crm.cli", *args]


def public_url(host: str, port: int) -> str:
    """Return the URL a browser on this machine opens for a listening host and port."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def port_problem(host: str, port: int) -> str | None:
    """Say why the web process could not listen on host:port, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port} ({exc.strerror or exc}); try PORT={port + 1}"
    return None


def _stop(procs: Mapping[str, subprocess.Popen[bytes]], say: Callable[[str], None]) -> None:
    """Ask every running child to stop (SIGINT, as Ctrl-C would), then insist."""
    running = {n: p for n, p in procs.items() if p.poll() is None}
    for proc in running.values():
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, proc in running.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {STOP_GRACE_SECONDS:.0f}s; killing it")
            proc.kill()
            proc.wait()


def supervise(
    children: Sequence[ChildSpec],
    env: Mapping[str, str],
    *,
    say: Callable[[str], None],
    poll_seconds: float = 0.5,
) -> int:
    """Run the children until one exits or we are interrupted; return the exit status."""
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    # Started in the background by a shell, we (and so our children) may ignore SIGINT;
    # a handler here is reset to the default in each child, so `_stop` can stop them.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for child in children:
            procs[child.name] = subprocess.Popen(child.argv, env=dict(env))
        while True:
            for name, proc in procs.items():
                code = proc.poll()
                if code is not None:
                    say(f"{name} exited with code {code}; stopping the others")
                    _stop(procs, say)
                    return code or 1
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        say("stopping " + ", ".join(procs) + " ...")
        _stop(procs, say)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to serve on")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to serve on")
@click.option("--worker/--no-worker", default=True, help="Also run `crm worker` (default: yes)")
@click.option("--demo/--no-demo", default=True, help="Seed the demo workspace on first run")
@click.option(
    "--sandbox/--no-sandbox",
    default=True,
    help="Run the demo's mail sandbox and prospects (demo workspace only)",
)
@with_appcontext
def up(host: str, port: int, worker: bool, demo: bool, sandbox: bool) -> None:
    """Run the web app and the worker together until Ctrl-C (what `make run` does)."""
    from crm.demo import demo_logins, seed_demo_workspace
    from crm.extensions import db

    problem = port_problem(host, port)
    if problem:
        raise click.ClickException(problem)
    env = dict(os.environ)
    # An explicit CRM_BASE_URL (a proxy in front) wins; otherwise links point
    # where this run really serves.
    url = current_app.config["BASE_URL"] if "CRM_BASE_URL" in env else public_url(host, port)
    env["CRM_BASE_URL"] = url
    try:
        created = seed_demo_workspace() if demo else False
        db.session.commit()
        show_logins = created or _demo_users_exist()
        children = _sandbox_children(env) if sandbox and worker else []
    except DBAPIError as exc:
        db.session.rollback()
        raise click.ClickException(
            "the database is not ready (run `crm db upgrade`; `make run` does): "
            f"{str(exc.orig).splitlines()[0]}"
        ) from None
    db.session.remove()
    children.append(ChildSpec("web", crm_argv("run", "--host", host, "--port", str(port))))
    if worker:
        children.append(ChildSpec("worker", crm_argv("worker")))

    click.echo(f"Linkgap: open {url}")
    if created:
        click.echo("A demo workspace was created. Sign in as:")
    if show_logins:
        for role, email, password in demo_logins():
            click.echo(f"  {role:<10} {email} / {password}")
    if "CRM_DEMO_SANDBOX" in env:
        click.echo(
            "This is a demo: its mail goes to a sandbox on 127.0.0.1 and never leaves this "
            "machine; made-up prospects answer within a minute, and a sequence day lasts one."
        )
    if not worker:
        click.echo("No worker: nothing is sent, polled or checked until `crm worker` runs.")
    click.echo("Press Ctrl-C to stop.")
    code = supervise(children, env, say=lambda text: click.echo(f"crm up: {text}", err=True))
    if code:
        sys.exit(code)


def _demo_users_exist() -> bool:
    from sqlalchemy import select

    from crm.demo import DEMO_LOGIN
    from crm.extensions import db
    from crm.models import User

    return db.session.scalar(select(User.id).where(User.email == DEMO_LOGIN[0])) is not None


def _sandbox_children(env: dict[str, str]) -> list[ChildSpec]:
    """Make the demo workspace live on a fresh sandbox; return the sandbox's processes.

    Only the demo workspace gets one; the settings it adds to `env` (short job
    intervals, a proxy that serves the prospects' pages) reach the web process and
    the worker of this run only.
    """
    from pathlib import Path

    from crm.demo.live import demo_mailbox, make_demo_live, sandbox_login
    from crm.demo.sandbox import SandboxPorts, free_port, imap_argv
    from crm.extensions import db
    from crm.models import utcnow

    mailbox = demo_mailbox()
    if mailbox is None:
        return []
    folder = Path(
        current_app.config.get("DEMO_SANDBOX") or Path(current_app.instance_path) / "sandbox"
    )
    ports = SandboxPorts(free_port(), free_port(), free_port())
    login = sandbox_login(mailbox)
    # A sequence day of one minute, here (for the batch enrolled now) and in the children.
    day = env.setdefault("CRM_SEQUENCE_DAY_SECONDS", "60")
    current_app.config["SEQUENCE_DAY_SECONDS"] = day
    enrolled = make_demo_live(folder, ports, utcnow())
    db.session.commit()
    click.echo(f"Demo sandbox: SMTP 127.0.0.1:{ports.smtp}, IMAP 127.0.0.1:{ports.imap}; "
               f"{enrolled} prospects enrolled just now")  # fmt: skip
    proxy = f"http://127.0.0.1:{ports.pages}"
    env.update(CRM_DEMO_SANDBOX=str(folder), HTTP_PROXY=proxy, HTTPS_PROXY=proxy,
               http_proxy=proxy, https_proxy=proxy)  # fmt: skip
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    # Passes every few seconds, so the loop shows within the first minutes.
    for name, value in (
        ("SEND_EVERY_SECONDS", 5),
        ("POLL_EVERY_SECONDS", 10),
        ("LINKS_CHECK_EVERY_SECONDS", 30),
        ("SEND_MAX_JITTER_SECONDS", 2),
    ):
        env.setdefault(f"CRM_{name}", str(value))  # fmt: skip
    return [
        ChildSpec("imap sandbox", imap_argv(sys.executable, ports.imap, login)),
        ChildSpec(
            "mail sandbox",
            crm_argv(
                "demo-sandbox",
                "--folder",
                str(folder),
                "--smtp-port",
                str(ports.smtp),
                "--imap-port",
                str(ports.imap),
                "--pages-port",
                str(ports.pages),
                "--login",
                login[0],
                "--password",
                login[1],
            ),
        ),
    ]
