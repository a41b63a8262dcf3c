"""Sending benchmark (DESIGN §9): 10,000 due touches sent by run_send_pass to a local SMTP server.

The baseline is a bare smtplib loop sending messages like them over one reused
connection, in the same run. The server is aiosmtpd in its own process (so
its work does not share our GIL and hide the client's cost), accepting and
discarding. Target: the send pass within 10× of the baseline, on SQLite and
on PostgreSQL.

Run alone with ``python -m bench.run send``; ``BENCH_SEND_N`` changes N and
``BENCH_SEND_ROUNDS`` the number of interleaved rounds (default 3, best of each
kept); ``BENCH_SEND_DATABASE_URL`` adds PostgreSQL (a throwaway database: its
public schema is dropped).
"""

from __future__ import annotations

import os
import random
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.common import BenchRow
from crm.mail.compose import OutgoingEmail, compose_bytes, new_message_id
from crm.mail.unsubscribe import make_unsubscribe_token, unsubscribe_url
from crm.outreach.templates import render_body_and_subject
from tests.builtins import builtin_sequences

N = int(os.environ.get("BENCH_SEND_N", "10000"))
ROUNDS = max(1, int(os.environ.get("BENCH_SEND_ROUNDS", "3")))
SENDER = "alex@example-planner.com"
_FIRST = ["Sarah", "Tom", "Priya", "Lukas", "Mei", "Jorge", "Anna", "Kwame", "Élodie", ""]
_WORDS = ["gantt", "planner", "roadmap", "kanban", "sprint", "budget", "okr", "timeline"]


@dataclass(frozen=True)
class BenchMessage:
    """One ready-to-send touch: envelope and bytes."""

    sender: str
    recipient: str
    raw: bytes
    message_id: str


def make_messages(n: int = N, seed: int = 7) -> list[BenchMessage]:
    """Render n realistic touches (every angle and step, threaded follow-ups)."""
    rng = random.Random(seed)
    sequences = builtin_sequences().DEFAULT_SEQUENCES
    angles = list(sequences)
    start = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
    messages: list[BenchMessage] = []
    for i in range(n):
        word = rng.choice(_WORDS)
        domain = f"{word}{i}review.example"
        first = rng.choice(_FIRST)
        local = (first or "editor").lower().encode("ascii", "ignore").decode()
        recipient = f"{local}.{i}@{domain}"
        steps = sequences[angles[i % len(angles)]]
        step = i % len(steps)
        context = {
            "contact": {"first_name": first, "email": recipient},
            "prospect": {
                "domain": domain,
                "evidence_url": f"https://{domain}/best-{word}-templates",
                "evidence_title": f"The {rng.randint(5, 30)} best {word} templates",
                "competitor": "rival-planner.example",
            },
            "target": {"url": f"https://example-planner.com/templates/{word}", "title": word},
            "sender": {"name": "Alex Morgan", "email": SENDER},
            "campaign": {"name": "Bench", "site": "example-planner.com"},
        }
        body, _ = render_body_and_subject(steps[step].body, None, context)
        _, subject = render_body_and_subject(steps[0].body, steps[0].subject, context)
        message_id = new_message_id("example-planner.com")
        thread = [new_message_id("example-planner.com") for _ in range(step)]
        token = make_unsubscribe_token("bench-secret", recipient, i)
        email = OutgoingEmail(
            message_id=message_id,
            sender_address=SENDER,
            sender_name="Alex Morgan",
            recipient_address=recipient,
            recipient_name=first or None,
            subject=subject or "",
            text=body,
            date=start + timedelta(seconds=i),
            unsubscribe_url=unsubscribe_url("https://crm.example-planner.com", token),
            thread=thread,
        )
        messages.append(BenchMessage(SENDER, recipient, compose_bytes(email), message_id))
    return messages


_SINK = """
import sys, time
from aiosmtpd.controller import Controller

class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 2.0.0 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]),
                        server_hostname="localhost", data_size_limit=None)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(Sink.count, flush=True)
"""


@dataclass
class Sink:
    """A running aiosmtpd process; ``received()`` after it stops says how many it took."""

    host: str
    port: int
    process: subprocess.Popen[str]
    count: int | None = None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[Sink]:
    """Run an accept-and-discard aiosmtpd on 127.0.0.1 in a child process."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    sink = Sink("127.0.0.1", port, process)
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        yield sink
    finally:
        process.stdin.close()
        out = process.stdout.read().strip()
        process.wait(timeout=30)
        sink.count = int(out) if out.isdigit() else None


def time_bare_smtplib(host: str, port: int, messages: list[BenchMessage]) -> float:
    """Send every message with plain smtplib over one connection; return seconds."""
    start = time.perf_counter()
    with smtplib.SMTP(host, port, local_hostname="bench.example", timeout=30) as conn:
        for m in messages:
            conn.sendmail(m.sender, [m.recipient], m.raw)
    return time.perf_counter() - start


def _seed_due_touches(n: int, sink: Sink, now: datetime) -> None:
    """Create n enrollments whose first touch is due, with bulk inserts (setup is not timed)."""
    from sqlalchemy import insert, select, text

    from crm.extensions import db
    from crm.models import (
        Angle,
        Campaign,
        Contact,
        Enrollment,
        Evidence,
        Mailbox,
        Prospect,
        Security,
        Site,
        TargetPage,
        Touch,
    )

    angles = list(db.session.scalars(select(Angle).order_by(Angle.id)))
    site = Site(domain="example-planner.com")
    campaign = Campaign(name="Bench", site=site)
    target = TargetPage(
        campaign=campaign,
        url="https://example-planner.com/templates/gantt",
        title="Free Gantt chart template",
        pitch="A free Gantt template for Excel and Google Sheets.",
    )
    mailbox = Mailbox(
        name="bench",
        from_email=SENDER,
        from_name="Alex Morgan",
        username="",
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_security=Security.NONE,
        imap_host="127.0.0.1",
        imap_port=9,
        daily_cap=n + 1,
        min_spacing_seconds=0,
        window_start="00:00",
        window_end="23:59",
        days="mon,tue,wed,thu,fri,sat,sun",
    )
    db.session.add_all([site, campaign, target, mailbox])
    db.session.flush()
    rng = random.Random(7)
    prospects, contacts, evidence, enrollments, touches = [], [], [], [], []
    for i in range(n):
        word = rng.choice(_WORDS)
        domain = f"{word}{i}review.example"
        first = rng.choice(_FIRST)
        local = (first or "editor").lower().encode("ascii", "ignore").decode()
        angle = angles[i % len(angles)]
        assert angle.sequence is not None
        pid = eid = i + 1
        prospects.append(
            dict(
                id=pid,
                campaign_id=campaign.id,
                domain=domain,
                target_page_id=target.id,
                angle=angle.slug,
                tier=1,
                in_gap=True,
                status="contacted",
            )
        )
        contacts.append(
            dict(id=pid, prospect_id=pid, email=f"{local}.{i}@{domain}", first_name=first)
        )
        evidence.append(
            dict(
                prospect_id=pid,
                site="rival-planner.example",
                page_url=f"https://{domain}/best-{word}-templates",
                title=f"The {rng.randint(5, 30)} best {word} templates",
            )
        )
        enrollments.append(
            dict(
                id=eid,
                prospect_id=pid,
                contact_id=pid,
                sequence_id=angle.sequence.id,
                mailbox_id=mailbox.id,
                angle=angle.slug,
                created_at=now - timedelta(hours=1),
            )
        )
        for step, offset in enumerate((0, 3, 8, 13), start=1):
            touches.append(
                dict(
                    enrollment_id=eid,
                    step=step,
                    state="scheduled",
                    message_id=new_message_id("example-planner.com"),
                    due_at=now - timedelta(minutes=5) + timedelta(days=offset),
                )
            )
    for model, rows in ((Prospect, prospects), (Contact, contacts), (Evidence, evidence),
                        (Enrollment, enrollments), (Touch, touches)):  # fmt: skip
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(model), rows[start : start + 2000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # A live database has statistics (autovacuum); a freshly loaded one does
        # not, and PostgreSQL then plans the claim as if tables were empty.
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    db.session.remove()


def time_send_pass(sink: Sink, n: int, database_url: str | None = None) -> tuple[float, int]:
    """Run the whole send path (DB + render + gate + SMTP) over n due touches; return seconds."""
    import shutil
    import tempfile

    import flask_migrate

    from crm import create_app
    from crm.extensions import db
    from crm.outreach.sender import run_send_pass

    folder = tempfile.mkdtemp(prefix="bench-send-", dir=os.environ.get("BENCH_SEND_DIR"))
    url = database_url or f"sqlite:///{folder}/bench.db"
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": folder,
            "SECRET_KEY": "bench-secret",
            "ENCRYPTION_KEY": "q3Xn1b2hJm8WkYtqY0l8yq3kqJ3yG3kq3Xn1b2hJm8U=",
            "BASE_URL": "https://crm.example-planner.com",
            "SEND_MAX_JITTER_SECONDS": 0,
            "SEND_BATCH": 200,
        }
    )
    now = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
    with app.app_context():
        if database_url:
            from sqlalchemy import text

            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        flask_migrate.upgrade()
        _seed_due_touches(n, sink, now)
        run_send_pass(now - timedelta(minutes=10))  # warm up: nothing is due yet
        start = time.perf_counter()
        counts = run_send_pass(now + timedelta(seconds=1))
        elapsed = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)  # a 10,000-touch database each run
    return elapsed, counts["sent"]


def run() -> list[BenchRow]:
    """Time each contender ROUNDS times, interleaved, and compare the best of each.

    The machine's speed drifts by a fifth from one minute to the next (a
    shared 2-CPU machine); interleaving the rounds and taking each side's
    best keeps that drift out of the ratio.
    """
    messages = make_messages(N)
    pg_url = os.environ.get("BENCH_SEND_DATABASE_URL")
    bare: list[float] = []
    sqlite: list[float] = []
    pg: list[float] = []
    with smtp_sink() as sink:
        time_bare_smtplib(sink.host, sink.port, messages[:200])  # warm up both sides
        for _ in range(ROUNDS):
            bare.append(time_bare_smtplib(sink.host, sink.port, messages))
            sqlite.append(_checked_pass(sink, None))
            if pg_url:
                pg.append(_checked_pass(sink, pg_url))
    expected = 200 + ROUNDS * len(messages) * (3 if pg_url else 2)
    if sink.count is not None and sink.count != expected:
        raise RuntimeError(f"the sink received {sink.count} messages, expected {expected}")
    best = f", best of {ROUNDS}" if ROUNDS > 1 else ""
    baseline = f"bare smtplib loop, one connection{best}"
    rows = [
        BenchRow(
            figure=f"send {len(messages):,} due touches: run_send_pass (SQLite) to aiosmtpd{best}",
            value=min(sqlite),
            baseline=baseline,
            baseline_value=min(bare),
            target="≤ 10×",
        )
    ]
    if pg:
        rows.append(
            BenchRow(
                figure=f"send {len(messages):,} due touches: run_send_pass (PostgreSQL){best}",
                value=min(pg),
                baseline=baseline,
                baseline_value=min(bare),
                target="≤ 10×",
            )
        )
    return rows


def _checked_pass(sink: Sink, database_url: str | None) -> float:
    elapsed, sent = time_send_pass(sink, N, database_url)
    if sent != N:
        raise RuntimeError(f"the send pass sent {sent} touches, expected {N}")
    return elapsed
