"""Send touches over SMTP and say what each answer means (DESIGN §5).

``SmtpTransport`` holds one connection per mailbox per pass and reuses it for
every message, each to one recipient (a touch, a reply, a digest); it
connects on the first send, reconnects after a dropped connection and never
downgrades security: ``starttls`` without STARTTLS on the server, or a
certificate that does not verify, pauses the mailbox.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Self

from crm.mail.compose import split_address
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
    ehlo_name: str = "localhost"  # the mailbox's domain (mailbox_smtp_settings)
    ca_file: str | None = None  # trust only this CA (tests, private servers)


def _check_envelope(recipient: str, sender: str) -> None:
    for address in (sender, recipient):
        if not address or any(ch in address for ch in "\r\n<> "):
            raise ValueError(f"{address!r} cannot be used in the SMTP envelope")


_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


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
                    local_hostname=s.ehlo_name,
                    timeout=s.timeout,
                    context=self._tls_context(),
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=s.ehlo_name, timeout=s.timeout)
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

    def send(self, raw: bytes, recipient: str, sender: str) -> SendOutcome:
        """Send one message over the pass's connection; see the module docstring."""
        _check_envelope(recipient, sender)
        if self._fatal is not None:
            return self._fatal
        reused = self._conn is not None
        outcome = self._transaction(raw, recipient, sender)
        if (
            reused
            and outcome.kind is OutcomeKind.RETRY
            and outcome.code is None
            and (outcome.stage is Stage.MAIL)
        ):
            # The kept connection died while idle (server timeout between
            # sends); nothing was sent yet, so try once on a fresh one.
            outcome = self._transaction(raw, recipient, sender)
        if outcome.kind is OutcomeKind.PAUSE_MAILBOX:
            # The mailbox is to be paused: send nothing more in this pass.
            self._fatal = outcome
        return outcome

    def _transaction(self, raw: bytes, recipient: str, sender: str) -> SendOutcome:
        if self._conn is None:
            failure = self._connect()
            if failure is not None:
                return failure
        conn = self._conn
        assert conn is not None
        payload_sent = False
        stage = Stage.MAIL
        try:
            size = f" SIZE={len(raw)}" if conn.has_extn("size") else ""
            # (MAIL FROM, RCPT TO, DATA): each must be accepted before the next.
            for stage, verb, args, ok in (
                (Stage.MAIL, "mail", f"FROM:{smtplib.quoteaddr(sender)}{size}", (250,)),
                (Stage.RCPT, "rcpt", f"TO:{smtplib.quoteaddr(recipient)}", (250, 251)),
                (Stage.DATA, "data", "", (354,)),
            ):
                code, resp = conn.docmd(verb, args)
                if code not in ok:
                    if code == 421:  # the server is closing the connection
                        self._drop()
                    else:
                        self._reset(conn)
                    return classify_smtp_reply(code, _reply_text(resp), stage)
            conn.send(_dot_stuffed(raw))
            payload_sent = True
            code, resp = conn.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            kind = OutcomeKind.UNCERTAIN if payload_sent else OutcomeKind.RETRY
            return SendOutcome(kind, stage, text=_network_text(exc))
        if code == 421:
            self._drop()
        return classify_smtp_reply(code, _reply_text(resp), Stage.DATA)


def _pause(stage: Stage, text: str) -> SendOutcome:
    return SendOutcome(OutcomeKind.PAUSE_MAILBOX, stage, text=text)


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
    recipient: str
    raw: bytes


class MemoryTransport:
    """A transport that keeps messages in a list: development and tests of callers."""

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings
        self.sent: list[SentRecord] = []

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

    def send(self, raw: bytes, recipient: str, sender: str) -> SendOutcome:
        """Record the message."""
        _check_envelope(recipient, sender)
        self.sent.append(SentRecord(sender, recipient, raw))
        return SendOutcome(OutcomeKind.ACCEPTED, Stage.DATA, 250, None, "accepted in memory")


# What the send pass holds per mailbox: the real connection, or the list of development.
MailTransport = SmtpTransport | MemoryTransport
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
