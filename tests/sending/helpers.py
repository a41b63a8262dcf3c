"""Building a sending world: a campaign, prospects with contacts and evidence, a mailbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
from tests.factories import CampaignFactory, TargetPageFactory, UserFactory
from tests.fixtures.smtp import SmtpTestServer

SMTP_LOGIN = ("outreach@sample-site.example", "smtp-password")
ALWAYS = {"window_start": "00:00", "window_end": "23:59", "days": "mon,tue,wed,thu,fri,sat,sun"}


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
