"""Sending benchmark (DESIGN §9): 10,000 touches to a local SMTP server.

The baseline is a bare smtplib loop sending the same bytes over one reused
connection. The server is aiosmtpd in its own process (so its work does not
share our GIL and hide the client's cost), accepting and discarding.

Helpers for the full send path (the outbox phase adds that row): build the
messages with ``make_messages``, start the server with ``smtp_sink``, time
the baseline with ``time_bare_smtplib`` and compare.

Run alone with ``python -m bench.run send``; ``BENCH_SEND_N`` changes N.
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
from crm.mail.smtp import Security, SmtpSettings, SmtpTransport
from crm.mail.unsubscribe import make_unsubscribe_token, unsubscribe_url
from crm.outreach.default_sequences import DEFAULT_SEQUENCES
from crm.outreach.templates import render_touch

N = int(os.environ.get("BENCH_SEND_N", "10000"))
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
    angles = list(DEFAULT_SEQUENCES)
    start = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
    messages: list[BenchMessage] = []
    for i in range(n):
        word = rng.choice(_WORDS)
        domain = f"{word}{i}review.example"
        first = rng.choice(_FIRST)
        local = (first or "editor").lower().encode("ascii", "ignore").decode()
        recipient = f"{local}.{i}@{domain}"
        steps = DEFAULT_SEQUENCES[angles[i % len(angles)]]
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
        first_touch = render_touch(steps[0].subject, steps[0].body, context)
        touch = render_touch(steps[step].subject, steps[step].body, context)
        message_id = new_message_id("example-planner.com")
        thread = [new_message_id("example-planner.com") for _ in range(step)]
        token = make_unsubscribe_token("bench-secret", recipient, i)
        email = OutgoingEmail(
            message_id=message_id,
            sender_address=SENDER,
            sender_name="Alex Morgan",
            recipient_address=recipient,
            recipient_name=first or None,
            subject=first_touch.subject,
            text=touch.body,
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


def time_transport(host: str, port: int, messages: list[BenchMessage]) -> float:
    """Send every message through SmtpTransport over one connection; return seconds."""
    settings = SmtpSettings(host, port, Security.NONE, timeout=30, ehlo_name="bench.example")
    start = time.perf_counter()
    with SmtpTransport(settings) as transport:
        for m in messages:
            outcome = transport.send(m.raw, m.recipient, m.sender)
            if not outcome.sent:
                raise RuntimeError(f"bench send failed: {outcome.summary()}")
    return time.perf_counter() - start


def run() -> list[BenchRow]:
    messages = make_messages(N)
    with smtp_sink() as sink:
        time_bare_smtplib(sink.host, sink.port, messages[:200])  # warm up both sides
        baseline = time_bare_smtplib(sink.host, sink.port, messages)
        transport = time_transport(sink.host, sink.port, messages)
    expected = 200 + 2 * len(messages)
    if sink.count is not None and sink.count != expected:
        raise RuntimeError(f"the sink received {sink.count} messages, expected {expected}")
    return [
        BenchRow(
            figure=f"send {len(messages):,} touches: SmtpTransport only (no outbox yet)",
            value=transport,
            baseline="bare smtplib loop, one connection",
            baseline_value=baseline,
            target="≤ 2× (full send path)",
        )
    ]
