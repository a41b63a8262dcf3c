"""The demo workspace ships a mailbox that is set up but paused until pointed at a server."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from crm.demo import DEMO_CAMPAIGN, seed_demo_workspace
from crm.demo.mailbox import DEMO_PAUSE_REASON
from crm.models import Campaign, Mailbox
from crm.models.outreach import campaign_mailboxes


def test_the_demo_has_a_paused_mailbox_for_its_campaign_that_sends_nothing(
    app: Flask, db: Any
) -> None:
    assert seed_demo_workspace()
    db.session.commit()
    mailbox = db.session.scalars(select(Mailbox).where(Mailbox.name == "demo")).one()
    assert mailbox.paused and mailbox.paused_reason == DEMO_PAUSE_REASON
    assert (mailbox.smtp_host, mailbox.smtp_port) == ("127.0.0.1", 2525)
    campaign = db.session.scalars(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN)).one()
    linked = db.session.execute(
        select(campaign_mailboxes.c.mailbox_id).where(
            campaign_mailboxes.c.campaign_id == campaign.id
        )
    ).scalars()
    assert list(linked) == [mailbox.id]

    result = app.test_cli_runner().invoke(args=["send-due", "--format", "json"])
    assert result.exit_code == 0 and '"sent": 0' in result.stdout
