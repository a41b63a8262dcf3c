"""What each SMTP answer means for a touch, and the retry schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.mail.smtp_outcome import (
    MAX_ATTEMPTS,
    OutcomeKind,
    SendOutcome,
    Stage,
    classify_smtp_reply,
    enhanced_status,
    retry_delay,
)

A = OutcomeKind.ACCEPTED
R = OutcomeKind.RETRY
H = OutcomeKind.HARD_BOUNCE
P = OutcomeKind.PAUSE_MAILBOX
F = OutcomeKind.FAILED


@pytest.mark.parametrize(
    ("code", "text", "stage", "kind"),
    [
        (250, "2.0.0 OK queued as 12345", Stage.DATA, A),
        (251, "User not local; will forward", Stage.RCPT, A),
        (451, "4.3.0 Try again later", Stage.RCPT, R),
        (450, "4.2.1 Mailbox busy", Stage.RCPT, R),
        (452, "4.5.3 Too many recipients", Stage.RCPT, R),
        (421, "4.7.0 Try again later, closing connection", Stage.DATA, R),
        (421, "4.7.28 unusual rate of unsolicited mail", Stage.MAIL, R),
        (454, "4.7.0 Temporary authentication failure", Stage.AUTH, R),
        (550, "5.1.1 The email account that you tried to reach does not exist", Stage.RCPT, H),
        (550, "No such user here", Stage.RCPT, H),
        (553, "5.1.3 Invalid address", Stage.RCPT, H),
        (550, "5.4.1 Recipient address rejected: Access denied", Stage.RCPT, H),
        (552, "5.2.2 Mailbox full", Stage.RCPT, H),
        (550, "5.2.1 The email account that you tried to reach is disabled", Stage.DATA, H),
        (554, "5.7.1 Message rejected due to policy", Stage.DATA, P),
        (550, "5.7.1 Relaying denied", Stage.RCPT, P),
        (554, "Relay access denied", Stage.RCPT, P),
        (550, "Message rejected as spam", Stage.RCPT, P),
        (535, "5.7.8 Username and Password not accepted", Stage.AUTH, P),
        (535, "Authentication failed", Stage.AUTH, P),
        (530, "5.7.0 Authentication required", Stage.MAIL, P),
        (553, "5.7.1 Sender address rejected: not owned by user", Stage.MAIL, P),
        (550, "5.1.0 Sender address rejected", Stage.MAIL, P),
        (554, "Service unavailable; client host blocked", Stage.CONNECT, P),
        (552, "5.3.4 Message size exceeds fixed limit", Stage.DATA, F),
        (554, "5.6.0 Message content rejected", Stage.DATA, F),
        (554, "Transaction failed", Stage.DATA, F),
        (999, "nonsense", Stage.DATA, R),
    ],
)
def test_classify_smtp_reply(code: int, text: str, stage: Stage, kind: OutcomeKind) -> None:
    assert classify_smtp_reply(code, text, stage).kind is kind


def test_classify_keeps_code_status_text_and_stage() -> None:
    outcome = classify_smtp_reply(550, b"5.1.1 <x@y.z>: Recipient\n address rejected", "rcpt")
    assert outcome == SendOutcome(
        OutcomeKind.HARD_BOUNCE,
        Stage.RCPT,
        550,
        "5.1.1",
        "5.1.1 <x@y.z>: Recipient address rejected",
    )
    assert outcome.summary() == "550 5.1.1 <x@y.z>: Recipient address rejected (rcpt)"
    assert not outcome.sent
    assert classify_smtp_reply(250, "OK", Stage.DATA).sent


@pytest.mark.parametrize(
    ("text", "status"),
    [("5.1.1 no such user", "5.1.1"), ("Requested action: 4.7.28 rate", "4.7.28"),
     ("version 1.2.3 is old", None), ("10.5.1.1 address", None), ("plain text", None)],
)  # fmt: skip
def test_enhanced_status_is_found_in_the_text(text: str, status: str | None) -> None:
    assert enhanced_status(text) == status


def test_retry_schedule_backs_off_then_gives_up() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert delays[:4] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
    ]
    assert all(d is not None for d in delays)
    assert delays == sorted(delays)  # type: ignore[type-var]
    assert retry_delay(MAX_ATTEMPTS) is None
    with pytest.raises(ValueError):
        retry_delay(0)
