"""Outreach factories: mailboxes, and a sending world (a campaign, prospects with contacts and
evidence, a mailbox that is always open)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import factory
from flask import Flask
from sqlalchemy import select

from crm.crypto import encrypt_secret
from crm.extensions import db
from crm.models import (
    Campaign,
    Contact,
    Enrollment,
    Evidence,
    Mailbox,
    Prospect,
    ProspectStatus,
    Security,
    TargetPage,
    Touch,
    User,
    utcnow,
)
from crm.models.outreach import campaign_mailboxes
from crm.outreach.enrollment import EnrollResult, enroll
from crm.outreach.sender import SenderSettings, run_send_pass
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.factories import (
    BaseFactory,
    CampaignFactory,
    ContactFactory,
    EvidenceFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)
from tests.fixtures.dovecot import DovecotAccount
from tests.fixtures.smtp import SmtpTestServer

SMTP_LOGIN = ("outreach@sample-site.example", "smtp-password")
# Ana's address: the mailbox of make_world, which replies are written to.
OUR_ADDRESS = "ana@sample-site.example"


class MailboxFactory(BaseFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"mailbox-{n}")
    from_email = factory.Sequence(lambda n: f"outreach{n}@sample-site.example")
    from_name = "Ana from Sample Site"
    username = factory.SelfAttribute("from_email")
    password_encrypted = b"not-a-real-token"
    smtp_host = "127.0.0.1"
    smtp_port = 2525
    smtp_security = Security.NONE
    imap_host = "127.0.0.1"
    imap_port = 1143
    imap_security = Security.NONE
    timezone = "UTC"


class OpenMailboxFactory(MailboxFactory):
    """A mailbox sending at any hour, without caps or spacing, as Ana (SMTP on a closed port)."""

    name = "outreach"
    from_email = "outreach@sample-site.example"
    from_name = "Ana Lopez"
    username = ""
    password_encrypted = factory.LazyFunction(
        lambda: encrypt_secret(TEST_ENCRYPTION_KEY, SMTP_LOGIN[1])
    )
    smtp_port = 9
    imap_port = 9
    daily_cap = 10_000
    min_spacing_seconds = 0
    window_start = "00:00"
    window_end = "23:59"
    days = "mon,tue,wed,thu,fri,sat,sun"


def make_mailbox(
    server: SmtpTestServer | None, *, account: DovecotAccount | None = None, **changes: Any
) -> Mailbox:
    """An always-open mailbox sending to the SMTP test server (or to a closed port).

    With a Dovecot ``account`` it logs in as that account and reads replies there.
    """
    values: dict[str, Any] = {}
    if server is not None:
        values["smtp_port"] = server.port
        if server.auth:
            values["username"] = SMTP_LOGIN[0]
    if account is not None:
        values["username"] = account.username
        values["imap_port"] = account.server.port
        values["password_encrypted"] = encrypt_secret(TEST_ENCRYPTION_KEY, account.password)
    mailbox: Mailbox = OpenMailboxFactory(**{**values, **changes})
    return mailbox


def make_campaign(
    name: str = "Gantt outreach", specialist: User | None = None
) -> tuple[Campaign, TargetPage]:
    """A campaign with one specialist member and the Gantt template as its target page."""
    specialist = specialist or UserFactory(
        role="specialist", email=f"spec-{name[:8].lower()}@linkgap.example"
    )
    campaign = CampaignFactory(name=name, members=[specialist])
    target = TargetPageFactory(
        campaign=campaign,
        url="https://sample-site.example/templates/gantt-chart",
        title="Free Gantt chart template",
        pitch="It is a free Gantt template for Excel and Google Sheets.",
    )
    return campaign, target


def make_prospects(
    campaign: Campaign,
    target: TargetPage | None,
    count: int = 0,
    *,
    domains: list[str] | None = None,
    tier: int = 1,
    timezone: str = "",
    prefix: str = "site",
    first_name: str = "Sam",
    assigned_to: User | None = None,
) -> list[Prospect]:
    """Tier-n gap prospects (``domains``, else ``count`` named prefix0.example...), each with
    one contact (editor@domain) and one evidence page linking to a competitor."""
    prospects = []
    for i, domain in enumerate(domains or [f"{prefix}{i}.example" for i in range(count)]):
        prospect = ProspectFactory(
            campaign=campaign, domain=domain, tier=tier, in_gap=True,
            status=ProspectStatus.QUALIFIED, target_page=target, angle="resource-replacement",
            link_type="resource_page", assigned_to=assigned_to,
        )  # fmt: skip
        ContactFactory(
            prospect=prospect, email=f"editor@{domain}", first_name=first_name,
            last_name=f"Lee{i}", timezone=timezone,
        )  # fmt: skip
        EvidenceFactory(prospect_id=prospect.id, page_url=f"https://{domain}/best-gantt-templates")
        prospects.append(prospect)
    return prospects


@dataclass
class World:
    """A campaign sending from one mailbox, with one prospect (a contact, a page) per domain."""

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


def enrolled_campaign(server: SmtpTestServer, prospects: int, now: datetime) -> dict[str, Any]:
    """A campaign, a mailbox sending to `server`, and `prospects` prospects enrolled at `now`."""
    campaign, target = make_campaign()
    mailbox = make_mailbox(server)
    found = make_prospects(campaign, target, prospects)
    enrollments = enroll_all(found, now).enrolled
    return {"campaign": campaign, "mailbox": mailbox, "prospects": found, "e": enrollments}


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
    """A World whose mailbox is Ana's (OUR_ADDRESS): it sends to the SMTP test server and
    reads replies from the Dovecot account; prospects are assigned to the specialist."""
    specialist = specialist or UserFactory(
        role="specialist", email=f"sam-{len(campaign_name)}@linkgap.example"
    )
    campaign, target = make_campaign(campaign_name, specialist)
    ana: dict[str, Any] = {"name": "ana", "from_email": OUR_ADDRESS}
    if account is None:
        ana.update(
            username=OUR_ADDRESS, password_encrypted=encrypt_secret(TEST_ENCRYPTION_KEY, "unused")
        )
    sender = make_mailbox(smtp, account=account, **{**ana, **(mailbox or {})})
    world = World(campaign, specialist, sender)
    db.session.execute(
        campaign_mailboxes.insert().values(campaign_id=campaign.id, mailbox_id=world.mailbox.id)
    )
    world.prospects = make_prospects(
        campaign, target, domains=domains, first_name="Sarah", assigned_to=specialist
    )
    for domain, extras in (extra_contacts or {}).items():
        for extra in extras:
            ContactFactory(prospect=world.prospect(domain), email=extra, first_name="Colleague")
    db.session.commit()
    return world


def enroll_all(prospects: list[Prospect], now: datetime, **kw: Any) -> EnrollResult:
    result = enroll(prospects, angle=kw.pop("angle", "resource replacement"), now=now, **kw)
    db.session.commit()
    assert not result.skipped, result.skipped
    return result


def settings(app: Flask, **changes: Any) -> SenderSettings:
    base = SenderSettings.from_config(app.config)
    values = {**base.__dict__, "max_jitter": base.max_jitter * 0, **changes}
    return SenderSettings(**values)


def send_pass(app: Flask, now: datetime | None = None, **changes: Any) -> dict[str, int]:
    counts = run_send_pass(now, settings=settings(app, **changes))
    db.session.expire_all()
    return counts


def enroll_and_send_first(
    app: Flask, world: World, now: datetime | None = None, *, transport: str = "smtp"
) -> None:
    """Enroll every prospect and send step 1 of each (through the SMTP test server by default)."""
    now = now or utcnow()
    result = enroll(world.prospects, angle="resource replacement", mailbox=world.mailbox, now=now)
    assert not result.skipped, result.skipped
    db.session.commit()
    counts = send_pass(app, now, transport=transport)
    assert counts["sent"] == len(world.prospects), counts


def touches(state: str | None = None) -> list[Touch]:
    stmt = select(Touch).order_by(Touch.id)
    if state is not None:
        stmt = stmt.where(Touch.state == state)
    return list(db.session.scalars(stmt))


def midday_zone(now: datetime) -> str:
    """Return a fixed-offset zone where it is about noon at now (for tests on the real clock)."""
    offset = 12 - now.hour
    offset = offset - 24 if offset > 12 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def bulk_due_touches(
    campaign: Campaign, target: TargetPage, mailbox: Mailbox, count: int, due_at: datetime
) -> list[str]:
    """Insert count enrollments whose first touch is due at due_at; return their Message-IDs.

    Bulk inserts, so thousands take a second; the rows are what enroll() makes.
    """
    from sqlalchemy import func, insert, select, text

    from crm.mail.compose import new_message_id
    from crm.models import Enrollment, Sequence, Touch
    from crm.outreach.sequences import sequence_for_angle

    sequence: Sequence = sequence_for_angle("resource replacement")
    first_id = (db.session.scalar(select(func.max(Prospect.id))) or 0) + 1
    prospects, contacts, evidence, enrollments, touches_, ids = [], [], [], [], [], []
    for n in range(count):
        pid = first_id + n
        domain = f"bulk{pid}.example"
        prospects.append(
            dict(id=pid, campaign_id=campaign.id, domain=domain, target_page_id=target.id,
                 tier=1, in_gap=True, status="contacted", angle="resource-replacement")
        )  # fmt: skip
        contacts.append(dict(id=pid, prospect_id=pid, email=f"editor@{domain}", first_name="Sam"))
        evidence.append(
            dict(prospect_id=pid, site="rival-a.com", page_url=f"https://{domain}/best-tools",
                 title="The best tools")
        )  # fmt: skip
        enrollments.append(
            dict(id=pid, prospect_id=pid, contact_id=pid, sequence_id=sequence.id,
                 mailbox_id=mailbox.id, angle="resource-replacement", created_at=due_at)
        )  # fmt: skip
        for step, offset in enumerate((0, 3, 8, 13), start=1):
            message_id = new_message_id(mailbox.domain)
            touches_.append(
                dict(enrollment_id=pid, step=step, state="scheduled", message_id=message_id,
                     due_at=due_at + timedelta(days=offset))
            )  # fmt: skip
            if step == 1:
                ids.append(message_id)
    for model, rows in ((Prospect, prospects), (Contact, contacts), (Evidence, evidence),
                        (Enrollment, enrollments), (Touch, touches_)):  # fmt: skip
        db.session.execute(insert(model), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would: without statistics PostgreSQL plans the claim badly.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return ids


def send_due_process(app: Flask, fault: str | None = None, **env: str) -> Any:
    """Start `crm send-due --format json` in a child process against the test database."""
    import os
    import subprocess
    import sys

    from crm import PROJECT_ROOT

    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CRM_") or key in ("CRM_TEST_REQUIRE",)
    }
    child_env.update(
        CRM_DATABASE_URL=app.config["DATABASE_URL"],
        CRM_SECRET_KEY=app.config["SECRET_KEY"],
        CRM_ENCRYPTION_KEY=app.config["ENCRYPTION_KEY"],
        CRM_BASE_URL=app.config["BASE_URL"],
        CRM_SEND_MAX_JITTER_SECONDS="0",
        **env,
    )
    # With a fault, the test's own `crm send-due` that kills itself at that point.
    command = (
        ["crm.cli", "send-due"] if fault is None else ["tests.outreach.faulty_send_due", fault]
    )
    return subprocess.Popen(
        [sys.executable, "-m", *command, "--format", "json"],
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
