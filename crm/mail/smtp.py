"""Send touches over SMTP and say what each answer means (DESIGN §5).

``SmtpTransport`` holds one connection per mailbox per pass and reuses it for
every message; it connects on the first send, reconnects after a dropped
connection and never downgrades security: ``starttls`` without STARTTLS on
the server, or a certificate that does not verify, pauses the mailbox.

``send`` never raises for SMTP or network trouble; it returns a
``SendOutcome`` whose kind tells the outbox what to do:

- ``accepted``: sent;
- ``retry``: temporary (4xx, connection trouble before the message could be
  accepted); try again later with the same Message-ID (``retry_delay``);
- ``hard_bounce``: the server refused the recipient for good (5xx); suppress;
- ``pause_mailbox``: policy or authentication (5.7.x, 535, sender refused,
  TLS): pause the mailbox with the reason; no recipient is at fault, and the
  transport sends nothing more in this pass;
- ``failed``: refused for good, but for the message itself (size, content);
- ``uncertain``: the connection broke after the whole message was sent and
  before the server answered, so it may have been accepted; never re-send
  automatically.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from crm.mail.compose import envelope_recipients, envelope_sender, split_address, to_bytes
from crm.mail.smtp_outcome import OutcomeKind, SendOutcome, Stage, classify_smtp_reply


class Security(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach and log in to one mailbox's SMTP server."""

    host: str
    port: int
    security: Security = Security.STARTTLS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ehlo_name: str | None = None  # default: the domain of the username, else "localhost"
    ca_file: str | None = None  # trust only this CA (tests, private servers)


class MailTransport(Protocol):
    """Sends messages for one mailbox during one pass; use as a context manager."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def open(self) -> SendOutcome | None:
        """Connect (if not connected); return the outcome when the server cannot be used."""
        ...

    def send(
        self,
        message: EmailMessage | bytes,
        recipients: str | Sequence[str] | None = None,
        sender: str | None = None,
    ) -> SendOutcome:
        """Send one message; recipients and sender default to its To and From."""
        ...


def _envelope(
    message: EmailMessage | bytes,
    recipients: str | Sequence[str] | None,
    sender: str | None,
) -> tuple[bytes, str, list[str]]:
    if isinstance(message, bytes):
        if sender is None or recipients is None:
            raise ValueError("raw bytes need an explicit sender and recipients")
        raw = message
    else:
        raw = to_bytes(message)
        sender = sender or envelope_sender(message)
        recipients = recipients if recipients is not None else envelope_recipients(message)
    rcpts = [recipients] if isinstance(recipients, str) else list(recipients)
    if not rcpts:
        raise ValueError("a message needs at least one recipient")
    for address in [sender, *rcpts]:
        if any(ch in address for ch in "\r\n<> "):
            raise ValueError(f"{address!r} cannot be used in the SMTP envelope")
    return raw, sender, rcpts


_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def quote_envelope_address(address: str) -> str:
    """Return the address as MAIL FROM and RCPT TO take it: ``<address>``."""
    return str(smtplib.quoteaddr(address))


def envelope_address(address: str) -> str:
    """Return an address for the SMTP envelope: its domain in ASCII (IDNA); raise ComposeError.

    Contacts are stored in Unicode form (``editor@malmötarget.com``); the
    envelope carries the A-label form, which every server accepts, so no
    SMTPUTF8 is needed: a local part that is not plain ASCII is refused
    by ``split_address`` and its touch blocked with the reason.
    """
    local, domain = split_address(address)
    return f"{local}@{domain}"


def _dot_stuffed(raw: bytes) -> bytes:
    # The regular expressions only when needed: counting is far cheaper, and a
    # composed message already ends its lines with CRLF and has no leading dot.
    data = raw
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
        data = _LINE_END.sub(b"\r\n", data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _reply_text(resp: bytes | str) -> str:
    return resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)


class SmtpTransport:
    """One reusable SMTP connection for one mailbox (see the module docstring)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.connections_opened = 0
        self._conn: smtplib.SMTP | None = None
        self._fatal: SendOutcome | None = None  # a mailbox-level refusal: stop trying

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT politely and close; never raises."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _ehlo_name(self) -> str:
        if self.settings.ehlo_name:
            return self.settings.ehlo_name
        username = self.settings.username or ""
        domain = username.rpartition("@")[2]
        return domain if "@" in username and domain else "localhost"

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def open(self) -> SendOutcome | None:
        """Connect now unless connected (or refused for good); return an outcome when that fails."""
        if self._fatal is not None:
            return self._fatal
        if self._conn is not None:
            return None
        failure = self._connect()
        if failure is not None and failure.kind is OutcomeKind.PAUSE_MAILBOX:
            self._fatal = failure
        return failure

    def _connect(self) -> SendOutcome | None:
        """Open, secure and log in; return an outcome when that fails."""
        s = self.settings
        conn: smtplib.SMTP | None = None
        stage = Stage.CONNECT
        try:
            # The constructors connect and read the greeting (a non-220 greeting
            # raises SMTPConnectError); they also remember the host name that
            # STARTTLS verifies the certificate against.
            self.connections_opened += 1
            if s.security is Security.TLS:
                conn = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname=self._ehlo_name(),
                    timeout=s.timeout,
                    context=self._tls_context(),
                )
            else:
                conn = smtplib.SMTP(
                    s.host, s.port, local_hostname=self._ehlo_name(), timeout=s.timeout
                )
            conn.ehlo_or_helo_if_needed()
            if s.security is Security.STARTTLS:
                stage = Stage.TLS
                if not conn.has_extn("starttls"):
                    conn.close()
                    return _pause(Stage.TLS, "the server does not offer STARTTLS")
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if s.username:
                stage = Stage.AUTH
                _login(conn, s.username, s.password or "")
        except smtplib.SMTPResponseException as exc:
            self._close_quietly(conn)
            return classify_smtp_reply(exc.smtp_code, _reply_text(exc.smtp_error), stage)
        except ssl.SSLError as exc:
            # A certificate that does not verify, or TLS spoken to a plain port:
            # configuration, which waiting will not fix.
            self._close_quietly(conn)
            return _pause(Stage.TLS, f"TLS failed: {exc}")
        except smtplib.SMTPServerDisconnected as exc:
            self._close_quietly(conn)
            return SendOutcome(OutcomeKind.RETRY, stage, text=_network_text(exc))
        except smtplib.SMTPException as exc:
            # No AUTH offered, no common AUTH mechanism, STARTTLS refused: configuration.
            self._close_quietly(conn)
            return _pause(stage, str(exc) or type(exc).__name__)
        except OSError as exc:
            self._close_quietly(conn)
            return SendOutcome(OutcomeKind.RETRY, stage, text=_network_text(exc))
        self._conn = conn
        return None

    @staticmethod
    def _close_quietly(conn: smtplib.SMTP | None) -> None:
        if conn is not None:
            conn.close()

    def _reset(self, conn: smtplib.SMTP) -> None:
        try:
            code, _ = conn.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self._drop()

    def send(
        self,
        message: EmailMessage | bytes,
        recipients: str | Sequence[str] | None = None,
        sender: str | None = None,
    ) -> SendOutcome:
        """Send one message over the pass's connection; see the module docstring."""
        raw, mail_from, rcpts = _envelope(message, recipients, sender)
        if self._fatal is not None:
            return self._fatal
        reused = self._conn is not None
        outcome = self._transaction(raw, mail_from, rcpts)
        if (
            reused
            and outcome.kind is OutcomeKind.RETRY
            and outcome.code is None
            and (outcome.stage is Stage.MAIL)
        ):
            # The kept connection died while idle (server timeout between
            # sends); nothing was sent yet, so try once on a fresh one.
            outcome = self._transaction(raw, mail_from, rcpts)
        if outcome.kind is OutcomeKind.PAUSE_MAILBOX:
            # The mailbox is to be paused: send nothing more in this pass.
            self._fatal = outcome
        return outcome

    def _transaction(
        self,
        raw: bytes,
        mail_from: str,
        rcpts: list[str],
    ) -> SendOutcome:
        if self._conn is None:
            failure = self._connect()
            if failure is not None:
                return failure
        conn = self._conn
        assert conn is not None
        payload_sent = False
        stage = Stage.MAIL
        refused: dict[str, SendOutcome] = {}
        try:
            size = f" SIZE={len(raw)}" if conn.has_extn("size") else ""
            code, resp = conn.docmd("mail", f"FROM:{quote_envelope_address(mail_from)}{size}")
            if code != 250:
                outcome = classify_smtp_reply(code, _reply_text(resp), Stage.MAIL)
                self._after_refusal(conn, code)
                return outcome
            stage = Stage.RCPT
            accepted: list[str] = []
            for rcpt in rcpts:
                code, resp = conn.docmd("rcpt", f"TO:{quote_envelope_address(rcpt)}")
                if code in (250, 251):
                    accepted.append(rcpt)
                    continue
                refused[rcpt] = classify_smtp_reply(code, _reply_text(resp), Stage.RCPT)
                if code == 421:
                    break
            if len(accepted) < len(rcpts) and (not accepted or 421 in _codes(refused)):
                self._after_refusal(conn, 421 if 421 in _codes(refused) else 0)
                return _all_refused(refused, rcpts)
            stage = Stage.DATA
            code, resp = conn.docmd("data")
            if code != 354:
                outcome = classify_smtp_reply(code, _reply_text(resp), Stage.DATA)
                self._after_refusal(conn, code)
                return _with_refused(outcome, refused)
            conn.send(_dot_stuffed(raw))
            payload_sent = True
            code, resp = conn.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            kind = OutcomeKind.UNCERTAIN if payload_sent else OutcomeKind.RETRY
            return _with_refused(SendOutcome(kind, stage, text=_network_text(exc)), refused)
        outcome = classify_smtp_reply(code, _reply_text(resp), Stage.DATA)
        if code == 421:
            self._drop()
        return _with_refused(outcome, refused)

    def _after_refusal(self, conn: smtplib.SMTP, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self._drop()
        else:
            self._reset(conn)


def _codes(refused: Mapping[str, SendOutcome]) -> set[int | None]:
    return {o.code for o in refused.values()}


def _pause(stage: Stage, text: str) -> SendOutcome:
    return SendOutcome(OutcomeKind.PAUSE_MAILBOX, stage, text=text)


def _all_refused(refused: Mapping[str, SendOutcome], rcpts: Sequence[str]) -> SendOutcome:
    """Summarise a transaction that ended at RCPT (no DATA was sent)."""
    outcomes = list(refused.values())
    if len(outcomes) == 1 and len(rcpts) == 1:
        return outcomes[0]
    # A mailbox-level problem outranks recipient problems; a temporary one
    # (or recipients never asked because the server closed) means retry.
    if len(refused) < len(rcpts):
        first = next(o for o in outcomes if o.code == 421)
        return _with_refused(first, refused)
    for kind in (OutcomeKind.PAUSE_MAILBOX, OutcomeKind.RETRY, OutcomeKind.HARD_BOUNCE):
        found = next((o for o in outcomes if o.kind is kind), None)
        if found is not None:
            return _with_refused(found, refused)
    return _with_refused(outcomes[0], refused)


def _with_refused(outcome: SendOutcome, refused: Mapping[str, SendOutcome]) -> SendOutcome:
    if not refused:
        return outcome
    return replace(outcome, refused=dict(refused))


def _login(conn: smtplib.SMTP, username: str, password: str) -> None:
    """Log in with one mechanism only.

    ``SMTP.login`` tries every mechanism in turn, so one wrong password
    counts as two or three failures towards the provider's lockout.
    """
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server does not offer AUTH")
    offered = conn.esmtp_features["auth"].upper().split()
    conn.user, conn.password = username, password
    for name, method in (
        ("PLAIN", conn.auth_plain),
        ("LOGIN", conn.auth_login),
        ("CRAM-MD5", conn.auth_cram_md5),
    ):
        if name in offered:
            conn.auth(name, method)
            return
    raise smtplib.SMTPException(f"no common AUTH mechanism (server offers {' '.join(offered)})")


def _network_text(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError) or isinstance(
        exc.__context__, socket.timeout | TimeoutError
    ):
        return "the server did not answer in time"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class SentRecord:
    """One message a MemoryTransport accepted."""

    sender: str
    recipients: list[str]
    raw: bytes


class MemoryTransport:
    """A transport that keeps messages in a list: development and tests of callers."""

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings
        self.sent: list[SentRecord] = []
        self.responder: Callable[[str, bytes], SendOutcome] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def open(self) -> SendOutcome | None:
        """Nothing to connect to."""
        return None

    def send(
        self,
        message: EmailMessage | bytes,
        recipients: str | Sequence[str] | None = None,
        sender: str | None = None,
    ) -> SendOutcome:
        """Record the message (or answer with ``responder``'s outcome)."""
        raw, mail_from, rcpts = _envelope(message, recipients, sender)
        if self.responder is not None:
            outcome = self.responder(rcpts[0], raw)
            if not outcome.sent:
                return outcome
        self.sent.append(SentRecord(mail_from, rcpts, raw))
        return SendOutcome(OutcomeKind.ACCEPTED, Stage.DATA, 250, None, "accepted in memory")


TransportFactory = Callable[[SmtpSettings], MailTransport]

TRANSPORTS: dict[str, TransportFactory] = {
    "smtp": SmtpTransport,
    "memory": MemoryTransport,
}


def make_transport(kind: str, settings: SmtpSettings) -> MailTransport:
    """Return the transport configured by name (``CRM_MAIL_TRANSPORT``: smtp or memory)."""
    try:
        factory = TRANSPORTS[kind]
    except KeyError:
        raise ValueError(f"unknown mail transport {kind!r} (use {', '.join(TRANSPORTS)})") from None
    return factory(settings)


@dataclass(frozen=True)
class ProbeResult:
    """The answer of ``mailboxes test`` for SMTP: did login work, and what the server said."""

    ok: bool
    message: str


def probe_smtp(settings: SmtpSettings) -> ProbeResult:
    """Connect, secure, log in and NOOP; return the server's answer for people."""
    transport = SmtpTransport(settings)
    failure = transport._connect()
    if failure is not None:
        return ProbeResult(False, failure.summary())
    conn = transport._conn
    assert conn is not None
    try:
        code, _ = conn.noop()
        banner = " ".join(_reply_text(conn.ehlo_resp or b"").split()[:1])
    except (smtplib.SMTPException, OSError) as exc:
        transport._drop()
        return ProbeResult(False, _network_text(exc))
    transport.close()
    login = "logged in" if settings.username else "no login configured"
    security = settings.security.value
    return ProbeResult(code == 250, f"{banner} answered {code}; {security}; {login}".strip())
