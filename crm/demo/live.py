"""Make the demo workspace live: its mailbox on the sandbox, and a fresh batch in sequence.

`crm up` calls this (for the demo workspace only) once the sandbox's ports are
chosen: the demo mailbox is pointed at them, unpaused and allowed to send at
any hour, and a dozen prospects that were never contacted get a contact and
are enrolled through the real enrollment service, so their first touches are
due at once. Services flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import exists, select

from crm.demo.mailbox import DEMO_MAILBOX
from crm.demo.sandbox import SandboxPorts
from crm.demo.seed import DEMO_CAMPAIGN
from crm.demo.simulator import start_simulation
from crm.extensions import db
from crm.models import Campaign, Contact, Enrollment, Mailbox, Prospect, Role, User

LIVE_BATCH = 12
DEMO_PASSWORD = "demo-password"  # crm/demo/mailbox.py sets it; the sandbox checks it
ANGLE_OF_LINK_TYPE = {
    "roundup": "roundup-inclusion",
    "resource": "resource-replacement",
    "editorial": "unlinked-mention",
    "comparison": "coverage-gap",
    "guest_post": "guest-post",
}
FIRST_NAMES = ("Alex", "Priya", "Jonas", "Maria", "Chen", "Fatima", "Liam", "Sofia")


def demo_campaign() -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))


def demo_mailbox() -> Mailbox | None:
    return db.session.scalar(select(Mailbox).where(Mailbox.name == DEMO_MAILBOX))


def sandbox_login(mailbox: Mailbox) -> tuple[str, str]:
    """Return the login the sandbox's SMTP and IMAP servers accept."""
    return mailbox.username, DEMO_PASSWORD


def point_mailbox_at_sandbox(mailbox: Mailbox, ports: SandboxPorts) -> None:
    """Send and read through the sandbox, at any hour, with short spacing; flush."""
    mailbox.smtp_host = mailbox.imap_host = "127.0.0.1"
    mailbox.smtp_port, mailbox.imap_port = ports.smtp, ports.imap
    mailbox.window_start, mailbox.window_end = "00:00", "23:59"
    mailbox.days = "mon,tue,wed,thu,fri,sat,sun"
    mailbox.daily_cap = max(mailbox.daily_cap, 500)
    mailbox.min_spacing_seconds = 2
    mailbox.paused = False
    mailbox.paused_reason = ""
    db.session.flush()


def enroll_live_batch(campaign: Campaign, now: datetime, size: int = LIVE_BATCH) -> int:
    """Enroll prospects never contacted before, each with one contact; return how many.

    The gap comes first; the seeded history has contacted most of it, so the batch
    goes on with the best prospects that already link to us too (a weak link to win).
    A prospect its sequence cannot be written for yet (no page of theirs to name) is
    passed over, its new contact removed again.
    """
    from crm.outreach.enrollment import enroll

    candidates = db.session.scalars(
        select(Prospect)
        .where(Prospect.campaign_id == campaign.id, Prospect.excluded_by.is_(None),
               ~exists().where(Enrollment.prospect_id == Prospect.id),
               ~exists().where(Contact.prospect_id == Prospect.id))
        .order_by(Prospect.in_gap.desc(), Prospect.score.desc(), Prospect.id)
        .limit(size * 4)
    ).all()  # fmt: skip
    specialist = db.session.scalar(
        select(User).where(User.role == Role.SPECIALIST).order_by(User.id)
    )
    targets = list(campaign.target_pages)
    enrolled = 0
    for n, prospect in enumerate(candidates):
        if enrolled >= size:
            break
        prospect.angle = ANGLE_OF_LINK_TYPE.get(prospect.link_type or "", "skyscraper")
        if targets and prospect.target_page_id is None:
            prospect.target_page_id = targets[n % len(targets)].id
        if specialist is not None and prospect.assigned_to_id is None:
            prospect.assigned_to_id = specialist.id
        name = FIRST_NAMES[n % len(FIRST_NAMES)]
        contact = Contact(prospect=prospect, email=f"{name.lower()}@{prospect.domain}",
                          first_name=name, source="demo")  # fmt: skip
        db.session.add(contact)
        db.session.flush()
        if enroll([prospect], actor=specialist, now=now).enrolled:
            enrolled += 1
        else:
            db.session.delete(contact)
            db.session.flush()
    return enrolled


def make_demo_live(folder: Path, ports: SandboxPorts, now: datetime) -> int:
    """Point the demo at its sandbox and enroll a fresh batch; return how many were enrolled."""
    campaign, mailbox = demo_campaign(), demo_mailbox()
    if campaign is None or mailbox is None:
        return 0
    point_mailbox_at_sandbox(mailbox, ports)
    ports.save(folder)
    start_simulation(folder, now)
    return enroll_live_batch(campaign, now)
