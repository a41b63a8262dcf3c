"""One pass of the sender (DESIGN §5): claim due touches, re-check, render, send, record.

Per mailbox with due touches (crm.outreach.mailbox_pass): one connection for the whole pass;
touches are claimed in batches with a lease (crm.outreach.outbox); before each
send every gate rule is checked again with facts read fresh from the database
(enrollment state, replies and bounces since enrollment, suppressions, mailbox
pause, window in the contact's timezone, daily cap in the mailbox's day,
spacing plus jitter) and the templates are rendered at that moment (the
next touch is prepared while the server answers this one). While the server
answers the envelope, one compare-and-set on a helper thread takes the touch
to ``sending`` and the mailbox's slot, checking again in the database what
may have changed since (enrollment, replies, bounces, suppressions, pause,
cap, spacing); DATA is sent only if it did, and the body only once its
commit reached the disk. ``sent`` is recorded after the server's 250, in the
pass's next commit (crm.outreach.send_commits says why that is safe);
crm.outreach.send_outcomes says what every other answer does.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from crm.extensions import db
from crm.models import utcnow
from crm.outreach import durability, faults, outbox
from crm.outreach.mailbox_pass import MailboxPass

COUNT_KEYS = (
    "sent",
    "deferred",
    "retry",
    "failed",
    "bounced",
    "uncertain",
    "cancelled",
    "blocked",
    "mailboxes_paused",
    "recovered_uncertain",
    "requeued",
)


@dataclass(frozen=True)
class SenderSettings:
    """How a pass sends; read from the app config (``CRM_<NAME>``)."""

    transport: str = "smtp"  # MAIL_TRANSPORT: smtp | memory
    smtp_timeout: float = 30.0  # SMTP_TIMEOUT seconds
    ca_file: str | None = None  # SMTP_CA_FILE: trust this CA too (a private CA)
    lease: timedelta = outbox.DEFAULT_LEASE  # SEND_LEASE_SECONDS
    batch: int = 100  # SEND_BATCH: touches claimed at a time per mailbox
    max_jitter: timedelta = timedelta(seconds=30)  # SEND_MAX_JITTER_SECONDS
    base_url: str = "http://127.0.0.1:5000"  # BASE_URL, for unsubscribe links
    secret: str = field(default="", repr=False)  # SECRET_KEY, signs unsubscribe links

    @classmethod
    def from_config(cls, config: Any) -> SenderSettings:
        jitter = config.get("SEND_MAX_JITTER_SECONDS")
        return cls(
            transport=str(config.get("MAIL_TRANSPORT") or "smtp"),
            smtp_timeout=float(config.get("SMTP_TIMEOUT") or 30),
            ca_file=config.get("SMTP_CA_FILE") or None,
            lease=timedelta(seconds=int(config.get("SEND_LEASE_SECONDS") or 600)),
            batch=int(config.get("SEND_BATCH") or 100),
            max_jitter=timedelta(seconds=float(30 if jitter in (None, "") else jitter)),
            base_url=str(config.get("BASE_URL") or "http://127.0.0.1:5000"),
            secret=str(config["SECRET_KEY"]),
        )


def job_send_due() -> dict[str, int]:
    """The `crm worker` job: one pass at the current time."""
    return run_send_pass()


def run_send_pass(
    now: datetime | None = None,
    *,
    settings: SenderSettings | None = None,
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Send what is due; return counts {"sent", "deferred", "failed", "uncertain", ...}.

    ``now`` fixes the clock for the whole pass (simulated time in tests);
    without it each decision reads the real clock.
    """
    faults.arm_from_environment()
    settings = settings or SenderSettings.from_config(current_app.config)
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    counts: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
    durability.prefer_wal()
    start = clock()
    with durability.relaxed_commits():
        recovered = outbox.recover_expired(start)
        db.session.commit()
        counts["recovered_uncertain"] += recovered.uncertain
        counts["requeued"] += recovered.requeued
        holder = outbox.new_holder_id()
        for mailbox_id in outbox.due_mailbox_ids(start):
            pass_ = MailboxPass(mailbox_id, holder, clock, settings, rng or random.Random(), counts)
            pass_.run()
        db.session.commit()
    return dict(counts)
