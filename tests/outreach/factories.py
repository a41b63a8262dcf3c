"""Outreach factories: mailboxes, and a sending world (a campaign, prospects with contacts and
evidence, a mailbox that is always open)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import factory
from flask import Flask

from crm.crypto import encrypt_secret
from crm.extensions import db
from crm.models import (
    Campaign,
    Contact,
    Evidence,
    Mailbox,
    Prospect,
    ProspectStatus,
    Security,
    TargetPage,
    Touch,
)
from crm.outreach.enrollment import EnrollResult, enroll
from crm.outreach.sender import SenderSettings, run_send_pass
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.factories import BaseFactory, CampaignFactory, TargetPageFactory, UserFactory
from tests.fixtures.smtp import SmtpTestServer

SMTP_LOGIN = ("outreach@sample-site.example", "smtp-password")
ALWAYS = {"window_start": "00:00", "window_end": "23:59", "days": "mon,tue,wed,thu,fri,sat,sun"}


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


def make_mailbox(server: SmtpTestServer | None, **changes: Any) -> Mailbox:
    """A mailbox sending to the test server (or to a closed port), always open by default."""
    values: dict[str, Any] = {
        "name": "outreach",
        "from_email": "outreach@sample-site.example",
        "from_name": "Ana Lopez",
        "username": SMTP_LOGIN[0] if server is not None and server.auth else "",
        "password_encrypted": encrypt_secret(TEST_ENCRYPTION_KEY, SMTP_LOGIN[1]),
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port if server is not None else 9,
        "smtp_security": Security.NONE,
        "imap_host": "127.0.0.1",
        "imap_port": 9,
        "imap_security": Security.NONE,
        "daily_cap": 10_000,
        "min_spacing_seconds": 0,
        "timezone": "UTC",
        **ALWAYS,
        **changes,
    }
    mailbox = Mailbox(**values)
    db.session.add(mailbox)
    db.session.flush()
    return mailbox


def make_campaign(name: str = "Gantt outreach") -> tuple[Campaign, TargetPage]:
    specialist = UserFactory(role="specialist", email=f"spec-{name[:8].lower()}@linkgap.example")
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
    count: int,
    *,
    tier: int = 1,
    timezone: str = "",
    prefix: str = "site",
) -> list[Prospect]:
    """Tier-n gap prospects, each with one contact and one evidence page."""
    prospects = []
    for i in range(count):
        domain = f"{prefix}{i}.example"
        prospect = Prospect(
            campaign=campaign,
            domain=domain,
            tier=tier,
            in_gap=True,
            status=ProspectStatus.QUALIFIED,
            target_page=target,
            angle="resource-replacement",
            link_type="resource_page",
        )
        db.session.add(prospect)
        contact = Contact(
            email=f"editor@{domain}", first_name="Sam", last_name=f"Lee{i}", timezone=timezone
        )
        prospect.contacts.append(contact)
        prospects.append(prospect)
    db.session.flush()
    for prospect in prospects:
        db.session.add(
            Evidence(
                prospect_id=prospect.id,
                site="rival-a.com",
                page_url=f"https://{prospect.domain}/best-gantt-templates",
                title="The 12 best Gantt templates",
                rel="dofollow",
            )
        )
    db.session.flush()
    return prospects


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


def touches(state: str | None = None) -> list[Touch]:
    from sqlalchemy import select

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
    if fault is not None:
        child_env["CRM_SEND_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "crm.cli", "send-due", "--format", "json"],
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
