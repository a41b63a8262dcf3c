"""Factories of the reply tests: a campaign whose sequence really went out from a mailbox
whose replies land in the private Dovecot, and real-shaped messages answering it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.crypto import encrypt_secret
from crm.extensions import db
from crm.mail.imap import Cursor, FetchedMessage
from crm.mail.parse import parse_raw
from crm.models import (
    Campaign,
    Enrollment,
    InboundMessage,
    Mailbox,
    Prospect,
    ProspectStatus,
    Touch,
    User,
    utcnow,
)
from crm.models.outreach import campaign_mailboxes
from crm.outreach.enrollment import enroll
from crm.outreach.sender import SenderSettings, run_send_pass
from crm.replies.poll_pass import PollSettings, run_poll_pass
from crm.replies.receive import DbTouchLookup, our_addresses, receive_messages
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    EvidenceFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)
from tests.fixtures.dovecot import DovecotAccount
from tests.fixtures.smtp import SmtpTestServer
from tests.outreach.factories import MailboxFactory

OUR_ADDRESS = "ana@sample-site.example"


class ReplyMailboxFactory(MailboxFactory):
    """A mailbox sending at any hour, without caps or spacing, as Ana."""

    name = "ana"
    from_email = OUR_ADDRESS
    from_name = "Ana Lopez"
    username = OUR_ADDRESS
    smtp_port = 9  # closed: tests that send pass the SMTP test server's port
    imap_port = 9
    daily_cap = 10_000
    min_spacing_seconds = 0
    window_start = "00:00"
    window_end = "23:59"
    days = "mon,tue,wed,thu,fri,sat,sun"


def make_mailbox(
    account: DovecotAccount | None, smtp: SmtpTestServer | None, **changes: Any
) -> Mailbox:
    """A mailbox that sends to the SMTP test server and reads replies from the Dovecot account."""
    values: dict[str, Any] = {}
    if account is not None:
        values["username"] = account.username
        values["imap_port"] = account.server.port
    if smtp is not None:
        values["smtp_port"] = smtp.port
    password = account.password if account is not None else "unused"
    values["password_encrypted"] = encrypt_secret(TEST_ENCRYPTION_KEY, password)
    mailbox: Mailbox = ReplyMailboxFactory(**{**values, **changes})
    return mailbox


@dataclass
class World:
    campaign: Campaign
    specialist: User
    mailbox: Mailbox
    prospects: list[Prospect] = field(default_factory=list)

    def prospect(self, domain: str) -> Prospect:
        found = db.session.scalar(select(Prospect).where(Prospect.domain == domain))
        assert found is not None, domain
        return found

    def enrollment(self, domain: str) -> Enrollment:
        found = db.session.scalar(
            select(Enrollment).join(Prospect).where(Prospect.domain == domain)
        )
        assert found is not None, domain
        return found

    def touch(self, domain: str, step: int = 1) -> Touch:
        found = db.session.scalar(
            select(Touch).where(
                Touch.enrollment_id == self.enrollment(domain).id, Touch.step == step
            )
        )
        assert found is not None, (domain, step)
        return found


def make_world(
    account: DovecotAccount | None,
    smtp: SmtpTestServer | None,
    domains: list[str],
    *,
    campaign_name: str = "Gantt outreach",
    extra_contacts: dict[str, list[str]] | None = None,
    specialist: User | None = None,
    mailbox: dict[str, Any] | None = None,
) -> World:
    """A campaign using one mailbox, with one prospect (a contact, an evidence page) per domain."""
    specialist = specialist or UserFactory(
        role="specialist", email=f"sam-{len(campaign_name)}@linkgap.example"
    )
    campaign = CampaignFactory(name=campaign_name, members=[specialist])
    target = TargetPageFactory(
        campaign=campaign,
        url="https://sample-site.example/templates/gantt-chart",
        title="Free Gantt chart template",
        pitch="It is a free Gantt template for Excel and Google Sheets.",
    )
    world = World(campaign, specialist, make_mailbox(account, smtp, **(mailbox or {})))
    db.session.execute(
        campaign_mailboxes.insert().values(campaign_id=campaign.id, mailbox_id=world.mailbox.id)
    )
    for domain in domains:
        prospect = ProspectFactory(
            campaign=campaign, domain=domain, tier=1, in_gap=True,
            status=ProspectStatus.QUALIFIED, target_page=target,
            angle="resource-replacement", link_type="resource_page", assigned_to=specialist,
        )  # fmt: skip
        ContactFactory(prospect=prospect, email=f"editor@{domain}", first_name="Sarah")
        for extra in (extra_contacts or {}).get(domain, []):
            ContactFactory(prospect=prospect, email=extra, first_name="Colleague")
        EvidenceFactory(prospect_id=prospect.id, page_url=f"https://{domain}/best-gantt-templates")
        world.prospects.append(prospect)
    db.session.commit()
    return world


def enroll_and_send_first(
    app: Flask, world: World, now: datetime | None = None, *, transport: str = "smtp"
) -> None:
    """Enroll every prospect and send step 1 of each (through the SMTP test server by default)."""
    now = now or utcnow()
    result = enroll(world.prospects, angle="resource replacement", mailbox=world.mailbox, now=now)
    assert not result.skipped, result.skipped
    db.session.commit()
    counts = send(app, now, transport=transport)
    assert counts["sent"] == len(world.prospects), counts


def send(app: Flask, now: datetime | None = None, **changes: Any) -> dict[str, int]:
    base = SenderSettings.from_config(app.config)
    values = {**base.__dict__, "max_jitter": base.max_jitter * 0, **changes}
    counts = run_send_pass(now, settings=SenderSettings(**values))
    db.session.expire_all()
    return counts


def poll(now: datetime | None = None, **changes: Any) -> dict[str, int]:
    """One pass of the real poller against the real Dovecot."""
    settings = PollSettings(connect_timeout=5, read_timeout=10, **changes)
    counts = run_poll_pass(now, settings=settings)
    db.session.expire_all()
    return counts


def inbound(kind: str | None = None) -> list[InboundMessage]:
    stmt = select(InboundMessage).order_by(InboundMessage.id)
    if kind is not None:
        stmt = stmt.where(InboundMessage.kind == kind)
    return list(db.session.scalars(stmt))


# --- messages ---------------------------------------------------------------------------


def _date(when: datetime | None) -> str:
    return format_datetime(when or datetime.now(UTC))


def reply(
    touch: Touch | None,
    *,
    sender: str,
    body: str = "Thanks Ana, happy to add your template to the list.",
    subject: str = "Re: Your Gantt chart round-up",
    message_id: str,
    headers: str = "",
    when: datetime | None = None,
) -> bytes:
    """A plain reply; with `touch`, threaded under it (In-Reply-To and References)."""
    thread = ""
    if touch is not None:
        thread = f"In-Reply-To: {touch.message_id}\r\nReferences: {touch.message_id}\r\n"
    return (
        f"From: Sarah Editor <{sender}>\r\nTo: Ana Lopez <{OUR_ADDRESS}>\r\n"
        f"Subject: {subject}\r\nDate: {_date(when)}\r\nMessage-ID: {message_id}\r\n"
        f"{thread}{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n\r\nOn Mon, Ana Lopez wrote:\r\n> Hi Sarah, a quick question\r\n"
    ).encode()


def out_of_office(touch: Touch, *, sender: str, back: date, message_id: str) -> bytes:
    return reply(
        touch,
        sender=sender,
        subject="Automatic reply: Your Gantt chart round-up",
        body=f"I am out of the office until {back:%B} {back.day}, {back.year} with no access "
        "to email. I will reply when I am back.",
        message_id=message_id,
        headers="Auto-Submitted: auto-replied\r\n",
    )


def hard_bounce(touch: Touch, *, recipient: str, message_id: str) -> bytes:
    """A Postfix-style DSN for `recipient`, returning the headers of `touch`."""
    boundary = "dsn-boundary-1"
    return (
        f"From: MAILER-DAEMON@mx.sample-site.example (Mail Delivery System)\r\n"
        f"To: {OUR_ADDRESS}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {_date(None)}\r\nMessage-ID: {message_id}\r\nAuto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        f' boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"<{recipient}>: host mx.example.net said: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.sample-site.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822; {recipient}\r\n"
        f"Action: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Ana Lopez <{OUR_ADDRESS}>\r\nTo: {recipient}\r\n"
        f"Subject: Your Gantt chart round-up\r\nMessage-ID: {touch.message_id}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def deliver(mailbox: Mailbox, raw: bytes, *, uid: int = 1) -> InboundMessage | None:
    """Store one message as the poller would have fetched it (no IMAP): for web tests."""
    now = utcnow()
    item = FetchedMessage(uid=uid, facts=parse_raw(raw), cursor=Cursor(1, uid), internal_date=now)
    stored = receive_messages(
        mailbox.id, "INBOX", [item], lookup=DbTouchLookup(), ours=our_addresses(), now=now
    )
    db.session.commit()
    return stored[0] if stored else None
