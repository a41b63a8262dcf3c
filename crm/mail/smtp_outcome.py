"""What an SMTP answer means for a touch, and when to try again (DESIGN §5).

Pure: ``classify_smtp_reply`` turns a reply code, its text and the stage of
the conversation into an ``OutcomeKind``; ``retry_delay`` is the backoff for
temporary failures. ``crm.mail.smtp`` uses both around a real connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from crm.core.storable import storable


class OutcomeKind(StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    HARD_BOUNCE = "hard_bounce"
    PAUSE_MAILBOX = "pause_mailbox"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


class Stage(StrEnum):
    """The step of the SMTP conversation an answer came from."""

    CONNECT = "connect"
    TLS = "tls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one message, with the server's answer for people to read."""

    kind: OutcomeKind
    stage: Stage | None = None
    code: int | None = None
    status: str | None = None  # the enhanced status code, e.g. "5.1.1"
    text: str = ""

    @property
    def sent(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED

    def summary(self) -> str:
        """Return one line for the touch's error, e.g. "550 5.1.1 no such user (rcpt)"."""
        parts = [str(p) for p in (self.code, self.status) if p is not None]
        text = " ".join(self.text.split())
        if text and self.status and text.startswith(self.status):
            text = text[len(self.status) :].strip()
        parts.append(text or self.kind.value)
        where = f" ({self.stage.value})" if self.stage else ""
        return (" ".join(parts) + where)[:500]


_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# Some servers refuse for policy reasons without an enhanced code; these words
# say the sender, not the recipient, is the problem.
_POLICY_WORDS = re.compile(
    r"\b(relay(ing)? (access )?denied|not permitted to relay|spam|block(ed|list)|blacklist|"
    r"policy|reputation|authenticat\w*|not authori[sz]ed|rate limit|too many)\b",
    re.IGNORECASE,
)


def enhanced_status(text: str) -> str | None:
    """Return the RFC 3463 enhanced status code in a reply's text, if any."""
    match = _ENHANCED.search(text)
    return ".".join(match.groups()) if match else None


def classify_smtp_reply(
    code: int, text: str | bytes, stage: Stage | str = Stage.RCPT
) -> SendOutcome:
    """Classify one SMTP reply at one stage of the conversation.

    2xx/3xx accepted; 421 and every 4xx retry; 5.7.x, 530/534/535/538 and any
    5xx before RCPT (the server refuses us, not the recipient) pause the
    mailbox; 5xx on RCPT (or on DATA with a recipient status 5.1.x/5.2.1) is a
    hard bounce; any other 5xx on DATA fails the message.
    """
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    reply = storable(" ".join(reply.split()))  # the server's text, kept as our note
    step = Stage(stage)
    status = enhanced_status(reply)
    kind = _kind(code, reply, step, status)
    return SendOutcome(kind=kind, stage=step, code=code, status=status, text=reply)


def _kind(code: int, reply: str, stage: Stage, status: str | None) -> OutcomeKind:
    if 200 <= code < 400:
        return OutcomeKind.ACCEPTED
    if 400 <= code < 500:
        return OutcomeKind.RETRY
    if not 500 <= code < 600:
        return OutcomeKind.RETRY  # nonsense from the server; not the recipient's fault
    subject, detail = _status_parts(status)
    if subject == 7 or code in (530, 534, 535, 538):
        return OutcomeKind.PAUSE_MAILBOX
    if stage in (Stage.CONNECT, Stage.TLS, Stage.AUTH, Stage.MAIL):
        return OutcomeKind.PAUSE_MAILBOX
    if status is None and _POLICY_WORDS.search(reply):
        return OutcomeKind.PAUSE_MAILBOX
    if stage is Stage.RCPT:
        return OutcomeKind.HARD_BOUNCE
    # DATA: only an address status blames the recipient; the rest is the message.
    if subject == 1 or (subject == 2 and detail in (1, 2)):
        return OutcomeKind.HARD_BOUNCE
    return OutcomeKind.FAILED


def _status_parts(status: str | None) -> tuple[int | None, int | None]:
    if status is None:
        return None, None
    _, subject, detail = status.split(".")
    return int(subject), int(detail)


# Waits after the 1st, 2nd, ... temporary failure; one more failure fails the touch.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


def retry_delay(failed_attempts: int) -> timedelta | None:
    """Return the wait after this many temporary failures, or None to give up (failed)."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts failures and starts at 1")
    if failed_attempts > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[failed_attempts - 1]
