"""The first-run checklist of a workspace: each step, where it is done, and whether it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import exists, select

from crm.extensions import db
from crm.models import (
    Campaign,
    Enrollment,
    GapImport,
    Mailbox,
    Prospect,
    ProspectStatus,
    Role,
    TargetPage,
    User,
    WorkerLock,
    utcnow,
)
from crm.web.access import visible_campaigns_query

# crm.jobs.SCHEDULER_LOCK: the web process does not import the job table.
SCHEDULER_LOCK = "scheduler"


@dataclass(frozen=True)
class SetupStep:
    """One step of the checklist."""

    label: str
    hint: str
    done: bool
    url: str | None  # None: nothing to click (the step is a command)
    who: Role  # the least role that can do it


def _any(stmt: object) -> bool:
    return bool(db.session.scalar(select(exists(stmt))))  # type: ignore[arg-type]


def _worker_running(now: datetime) -> bool:
    lock = db.session.get(WorkerLock, SCHEDULER_LOCK)
    return lock is not None and lock.expires_at > now


def setup_steps(user: User, now: datetime | None = None) -> list[SetupStep] | None:
    """Return the checklist for the campaign the user would work on first (their newest).

    None on the demo workspace (its newest campaign is the demo's): it is set up already.
    """
    from crm.demo.seed import DEMO_CAMPAIGN

    now = now or utcnow()
    campaign = db.session.scalar(
        visible_campaigns_query(user).order_by(None).order_by(Campaign.id.desc()).limit(1)
    )
    if campaign is not None and campaign.name == DEMO_CAMPAIGN:
        return None
    new_campaign = url_for("campaigns.new")

    def at(endpoint: str) -> str:
        return url_for(endpoint, campaign_id=campaign.id) if campaign else new_campaign

    cid = campaign.id if campaign is not None else -1
    imported = _any(select(GapImport.id).where(GapImport.campaign_id == cid))
    reviewed = _any(
        select(Prospect.id).where(
            Prospect.campaign_id == cid,
            Prospect.status != ProspectStatus.NEW,
        )
    )
    return [
        SetupStep("Your site and its competitors",
                  "Create a campaign: the domain you build links for and 3–5 search competitors.",
                  campaign is not None, new_campaign if campaign is None else at("campaigns.show"),
                  Role.MANAGER),
        SetupStep("Import backlink exports",
                  "Upload the Ahrefs, Semrush, Moz, Majestic or Search Console exports of your "
                  "site and each competitor.", imported, at("gap.import_new"), Role.SPECIALIST),
        SetupStep("Review the gap",
                  "Filter the gap, qualify the prospects worth writing to and exclude the rest.",
                  reviewed, at("gap.table"), Role.SPECIALIST),
        SetupStep("Target pages",
                  "Add the pages of your site that prospects are pitched to link to.",
                  _any(select(TargetPage.id).where(TargetPage.campaign_id == cid)),
                  at("campaigns.show"), Role.MANAGER),
        SetupStep("Connect and test a mailbox",
                  "Add the SMTP and IMAP account you send from, test it and leave it active.",
                  _any(select(Mailbox.id).where(Mailbox.paused.is_(False))),
                  url_for("mailboxes.index"), Role.ADMIN),
        SetupStep("First enrollment",
                  "Enroll qualified prospects with a contact into the sequence of their angle.",
                  _any(select(Enrollment.id).where(Enrollment.prospect_id.in_(
                      select(Prospect.id).where(Prospect.campaign_id == cid)))),
                  at("outbox.enroll_many"), Role.SPECIALIST),
        SetupStep("Worker running",
                  "Start the worker with crm worker (make run starts it too): it sends, "
                  "reads replies and checks links.",
                  _worker_running(now), None, Role.ADMIN),
    ]  # fmt: skip
