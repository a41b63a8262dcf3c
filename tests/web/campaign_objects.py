"""One of every object a route can name by id, all inside one campaign.

The object-access tests build this for the specialist's campaign and for a
campaign they are not in, then ask for the second set's ids.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from crm.extensions import db
from crm.models import (
    AnchorType,
    BulkChange,
    Campaign,
    CheckResult,
    Enrollment,
    GapImport,
    InboundKind,
    InboundMessage,
    LinkCheck,
    LinkState,
    RankImport,
    RankSource,
    Touch,
    WonLink,
    utcnow,
)
from crm.models.outreach import campaign_mailboxes
from crm.outreach.sequences import find_angle
from tests.factories import ContactFactory, ProspectFactory, TargetPageFactory
from tests.outreach.factories import MailboxFactory


def build_campaign_objects(campaign: Campaign, tag: str) -> dict[str, Any]:
    """Create a prospect, contact, linked mailbox, enrollment, touch, messages, link, imports."""
    prospect = ProspectFactory(campaign=campaign, domain=f"{tag}-prospect.example")
    contact = ContactFactory(prospect=prospect, email=f"editor@{tag}-prospect.example")
    target = TargetPageFactory(campaign=campaign, url=f"https://sample-site.example/{tag}")
    mailbox = MailboxFactory(name=f"{tag}-mailbox", from_email=f"{tag}@sample-site.example")
    db.session.execute(
        campaign_mailboxes.insert().values(campaign_id=campaign.id, mailbox_id=mailbox.id)
    )
    angle = find_angle("broken-link")
    enrollment = Enrollment(
        prospect=prospect,
        contact=contact,
        sequence_id=angle.sequence.id,
        mailbox=mailbox,
        angle=angle.slug,
    )
    touch = Touch(
        enrollment=enrollment,
        step=1,
        message_id=f"<{tag}-touch@sample-site.example>",
        due_at=utcnow() + timedelta(days=1),
    )
    db.session.add_all([enrollment, touch])
    db.session.flush()
    reply = InboundMessage(
        mailbox_id=mailbox.id,
        message_id=f"<{tag}-reply@example.com>",
        kind=InboundKind.HUMAN_REPLY,
        from_address=contact.email,
        subject="Re: hello",
        prospect_id=prospect.id,
        match_method="sender",
    )
    triage = InboundMessage(
        mailbox_id=mailbox.id,
        message_id=f"<{tag}-triage@example.com>",
        kind=InboundKind.HUMAN_REPLY,
        from_address=f"who@{tag}-unknown.example",
        subject="Re: hi",
    )
    link = WonLink(
        campaign_id=campaign.id,
        prospect_id=prospect.id,
        source_url=f"https://{prospect.domain}/tools",
        target_url=target.url,
        anchor="sample site",
        anchor_type=AnchorType.BRANDED,
        placed_on=date(2024, 5, 1),
    )
    gap_import = GapImport(campaign_id=campaign.id, files=[])
    rank_import = RankImport(
        campaign_id=campaign.id, source=RankSource.GSC, as_of=date(2026, 10, 1),
        filename=f"{tag}-pages.csv",
    )  # fmt: skip
    bulk_change = BulkChange(campaign_id=campaign.id, action="qualify", total=5000, done=2000)
    db.session.add_all([reply, triage, link, gap_import, rank_import, bulk_change])
    db.session.flush()
    check = LinkCheck(
        won_link_id=link.id, result=CheckResult.INCONCLUSIVE, reason="HTTP 403",
        state_after=LinkState.INCONCLUSIVE,
    )  # fmt: skip
    db.session.add(check)
    db.session.flush()
    return {
        "prospect": prospect,
        "contact": contact,
        "target": target,
        "mailbox": mailbox,
        "enrollment": enrollment,
        "touch": touch,
        "reply": reply,
        "triage": triage,
        "link": link,
        "gap_import": gap_import,
        "bulk_change": bulk_change,
        "rank_import": rank_import,
        "link_check": check,
    }
