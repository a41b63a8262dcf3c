"""The demo workspace's mailbox: set up like a real one, paused until pointed at a server."""

from __future__ import annotations

from sqlalchemy import select

from crm.extensions import db
from crm.models import Campaign, Mailbox
from crm.models.outreach import campaign_mailboxes
from crm.outreach.mailboxes import MailboxSettings, create_mailbox

DEMO_MAILBOX = "demo"
DEMO_PAUSE_REASON = "demo mailbox: point it at your SMTP server"


def add_demo_mailbox(campaign: Campaign) -> None:
    """Add a paused mailbox for the demo campaign (a local SMTP on 127.0.0.1:2525); flush only."""
    if db.session.scalar(select(Mailbox.id).where(Mailbox.name == DEMO_MAILBOX)) is not None:
        return
    mailbox = create_mailbox(
        MailboxSettings(
            name=DEMO_MAILBOX,
            from_email=f"outreach@{campaign.site.domain}",
            from_name="Sam from Sample Site",
            username=f"outreach@{campaign.site.domain}",
            password="demo-password",
            smtp_host="127.0.0.1",
            smtp_port=2525,
            smtp_security="none",
            imap_host="127.0.0.1",
            imap_port=1143,
            imap_security="none",
        )
    )
    mailbox.paused = True
    mailbox.paused_reason = DEMO_PAUSE_REASON
    db.session.execute(
        campaign_mailboxes.insert().values(campaign_id=campaign.id, mailbox_id=mailbox.id)
    )
    db.session.flush()
