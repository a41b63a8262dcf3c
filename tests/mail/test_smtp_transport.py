"""The SMTP transport against a real server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crm.mail.compose import OutgoingEmail, compose_bytes, new_message_id
from crm.mail.smtp import (
    MemoryTransport,
    Security,
    SmtpSettings,
    SmtpTransport,
    _dot_stuffed,
    make_transport,
    probe_smtp,
)
from crm.mail.smtp_outcome import OutcomeKind, SendOutcome, Stage, retry_delay
from tests.fixtures.smtp import DROP, Delayed, SmtpTestServer, free_port

SARAH = "sarah@pmtoolsreview.com"
GONE = "gone@pmtoolsreview.com"
Factory = Callable[..., SmtpTestServer]


def touch(to: str = SARAH, text: str = "Hi Sarah,\n\nA short note.\n") -> bytes:
    return compose_bytes(
        OutgoingEmail(
            message_id=new_message_id("example-planner.com"),
            sender_address="alex@example-planner.com",
            sender_name="Alex Morgan",
            recipient_address=to,
            subject="A resource for your Gantt chart list",
            text=text,
            date=datetime.now(UTC),
            unsubscribe_url="https://crm.example-planner.com/u/token",
        )
    )


def send(transport: SmtpTransport, raw: bytes, to: str = SARAH) -> SendOutcome:
    return transport.send(raw, to, "alex@example-planner.com")


def test_451_three_times_then_250_is_delivered_on_the_4th_try_with_the_same_message_id(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.script.rcpt(SARAH, "451 4.3.0 Greylisted, try again later", times=3)
    raw = touch()
    outcomes = []
    waited = timedelta(0)
    for attempt in range(1, 5):
        # A new pass (and connection) per attempt, as the outbox retries later.
        with SmtpTransport(smtp_server.settings()) as transport:
            outcome = send(transport, raw)
        outcomes.append(outcome.kind)
        if outcome.kind is OutcomeKind.RETRY:
            delay = retry_delay(attempt)
            assert delay is not None
            waited += delay
    assert outcomes == [OutcomeKind.RETRY] * 3 + [OutcomeKind.ACCEPTED]
    assert waited == timedelta(minutes=5 + 15 + 60)
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].raw == raw  # same bytes, so the same Message-ID
    assert smtp_server.message_ids() == [build_id(raw)]


def build_id(raw: bytes) -> str:
    line = next(x for x in raw.split(b"\r\n") if x.startswith(b"Message-ID:"))
    return line.split(b":", 1)[1].strip().decode()


def test_550_5_1_1_is_a_hard_bounce_after_one_try(smtp_server: SmtpTestServer) -> None:
    smtp_server.script.rcpt(GONE, "550 5.1.1 <gone@pmtoolsreview.com>: no such user", forever=True)
    with SmtpTransport(smtp_server.settings()) as transport:
        outcome = send(transport, touch(GONE), GONE)
        assert (outcome.kind, outcome.code, outcome.status) == (
            OutcomeKind.HARD_BOUNCE,
            550,
            "5.1.1",
        )
        assert outcome.stage is Stage.RCPT
        # The connection is still good for the next touch (RSET, not dropped).
        assert send(transport, touch()).sent
    assert smtp_server.script.seen.count(("rcpt", GONE)) == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [[SARAH]]
    assert smtp_server.connections == 1


def test_535_pauses_the_mailbox_and_blames_no_recipient(smtp_server_factory: Factory) -> None:
    server = smtp_server_factory(auth=("alex@example-planner.com", "right"))
    with SmtpTransport(server.settings(password="wrong")) as transport:
        first = send(transport, touch())
        second = send(transport, touch(GONE), GONE)
    assert (first.kind, first.code, first.stage) == (OutcomeKind.PAUSE_MAILBOX, 535, Stage.AUTH)
    assert second == first  # no new login attempt for the rest of the pass
    # One mechanism tried once: a wrong password is one failure, not one per mechanism.
    assert server.auth_attempts == [("alex@example-planner.com", False)]
    assert server.script.seen == []  # never reached MAIL or RCPT
    assert server.messages == []


def test_554_5_7_1_at_data_pauses_the_mailbox(smtp_server: SmtpTestServer) -> None:
    smtp_server.script.data("554 5.7.1 Message rejected: sender reputation")
    with SmtpTransport(smtp_server.settings()) as transport:
        outcome = send(transport, touch())
        commands = len(smtp_server.script.seen)
        assert send(transport, touch()) == outcome  # nothing more goes out this pass
        assert len(smtp_server.script.seen) == commands
    assert (outcome.kind, outcome.status, outcome.stage) == (
        OutcomeKind.PAUSE_MAILBOX,
        "5.7.1",
        Stage.DATA,
    )
    assert smtp_server.messages == []


def test_many_messages_share_one_connection(smtp_server: SmtpTestServer) -> None:
    raws = [touch(f"editor{i}@site{i}.example") for i in range(60)]
    with SmtpTransport(smtp_server.settings()) as transport:
        outcomes = [
            send(transport, raw, f"editor{i}@site{i}.example") for i, raw in enumerate(raws)
        ]
        assert transport.connections_opened == 1
    assert all(o.sent for o in outcomes)
    assert smtp_server.connections == 1
    assert [m.raw for m in smtp_server.messages] == raws


def test_message_bytes_arrive_exactly_including_lines_starting_with_dots(
    smtp_server: SmtpTestServer,
) -> None:
    raw = touch(text=".\n..\n.hidden\nend\n")
    with SmtpTransport(smtp_server.settings()) as transport:
        assert send(transport, raw).sent
    assert smtp_server.messages[0].raw == raw


def test_connection_dropped_after_the_message_was_sent_is_uncertain(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.script.data(DROP)
    with SmtpTransport(smtp_server.settings()) as transport:
        outcome = send(transport, touch())
        assert (outcome.kind, outcome.stage) == (OutcomeKind.UNCERTAIN, Stage.DATA)
        # The next touch goes over a new connection.
        assert send(transport, touch()).sent
        assert transport.connections_opened == 2


def test_timeout_waiting_for_the_final_answer_is_uncertain_even_if_the_server_took_it(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.script.data(Delayed(1.2, "250 2.0.0 OK queued"))
    with SmtpTransport(smtp_server.settings(timeout=0.4)) as transport:
        outcome = send(transport, touch())
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "did not answer in time" in outcome.text
    deadline = time.monotonic() + 3
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp_server.messages) == 1  # it was delivered: re-sending would duplicate it


def test_connection_dropped_before_the_message_is_a_retry(smtp_server: SmtpTestServer) -> None:
    smtp_server.script.data_command(DROP)
    with SmtpTransport(smtp_server.settings()) as transport:
        outcome = send(transport, touch())
    assert (outcome.kind, outcome.stage) == (OutcomeKind.RETRY, Stage.DATA)
    assert smtp_server.messages == []


def test_a_kept_connection_that_died_while_idle_is_reopened_transparently(
    smtp_server: SmtpTestServer,
) -> None:
    with SmtpTransport(smtp_server.settings()) as transport:
        assert send(transport, touch()).sent
        smtp_server.script.mail(DROP)
        assert send(transport, touch()).sent
        assert transport.connections_opened == 2
    assert len(smtp_server.messages) == 2


def test_421_closes_the_connection_and_retries(smtp_server: SmtpTestServer) -> None:
    smtp_server.script.rcpt(SARAH, "421 4.7.0 Too many connections, closing")
    with SmtpTransport(smtp_server.settings()) as transport:
        outcome = send(transport, touch())
        assert (outcome.kind, outcome.code) == (OutcomeKind.RETRY, 421)
        assert send(transport, touch()).sent
        assert transport.connections_opened == 2


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_tls_with_login_is_verified_against_the_trusted_ca(
    smtp_server_factory: Factory, tls: str
) -> None:
    server = smtp_server_factory(auth=("alex@example-planner.com", "s3cret"), tls=tls)
    with SmtpTransport(server.settings()) as transport:
        assert send(transport, touch()).sent
    assert server.auth_attempts == [("alex@example-planner.com", True)]


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_an_untrusted_certificate_pauses_the_mailbox_before_login(
    smtp_server_factory: Factory, tls: str
) -> None:
    server = smtp_server_factory(auth=("alex@example-planner.com", "s3cret"), tls=tls)
    with SmtpTransport(server.settings(ca_file=None)) as transport:
        outcome = send(transport, touch())
    assert (outcome.kind, outcome.stage) == (OutcomeKind.PAUSE_MAILBOX, Stage.TLS)
    assert "certificate verify failed" in outcome.text
    assert server.auth_attempts == []


def test_starttls_required_but_not_offered_never_falls_back_to_plain_text(
    smtp_server_factory: Factory,
) -> None:
    server = smtp_server_factory(auth=("alex@example-planner.com", "s3cret"))
    with SmtpTransport(server.settings(security=Security.STARTTLS)) as transport:
        outcome = send(transport, touch())
    assert (outcome.kind, outcome.stage) == (OutcomeKind.PAUSE_MAILBOX, Stage.TLS)
    assert server.auth_attempts == []


def test_connection_refused_is_a_retry() -> None:
    settings = SmtpSettings("127.0.0.1", free_port(), Security.NONE, timeout=2.0)
    with SmtpTransport(settings) as transport:
        outcome = send(transport, touch())
    assert (outcome.kind, outcome.stage) == (OutcomeKind.RETRY, Stage.CONNECT)


def test_a_pass_that_sends_nothing_opens_no_connection(smtp_server: SmtpTestServer) -> None:
    with SmtpTransport(smtp_server.settings()) as transport:
        pass
    assert transport.connections_opened == 0


def test_probe_reports_login_success_and_failure(smtp_server_factory: Factory) -> None:
    server = smtp_server_factory(auth=("alex@example-planner.com", "s3cret"), tls="starttls")
    ok = probe_smtp(server.settings())
    assert ok.ok and "logged in" in ok.message
    bad = probe_smtp(server.settings(password="nope"))
    assert not bad.ok and "535" in bad.message


def test_transport_is_chosen_by_name() -> None:
    settings = SmtpSettings("127.0.0.1", 25, Security.NONE)
    assert isinstance(make_transport("smtp", settings), SmtpTransport)
    memory = make_transport("memory", settings)
    assert isinstance(memory, MemoryTransport)
    with memory:
        assert memory.send(touch(), SARAH, "alex@example-planner.com").sent
    assert [r.recipient for r in memory.sent] == [SARAH]
    with pytest.raises(ValueError, match="unknown mail transport"):
        make_transport("carrier-pigeon", settings)


@given(st.binary(max_size=40).map(lambda b: bytes(b"a.\r\n"[x % 4] for x in b)))
@example(b".\n")
@example(b"a\r\r\n.")
def test_dot_stuffing_matches_the_rule_for_any_mix_of_line_ends_and_dots(raw: bytes) -> None:
    normalised = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    stuffed = re.sub(rb"(?m)^\.", b"..", normalised)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    assert _dot_stuffed(raw) == stuffed + b".\r\n"
