"""Queue the weekly digest for every manager who opted in, through the outbox.

One pass (the `crm worker` job, or `crm report-digest`) queues each
subscriber's digest at most once per week: the subscription remembers the
Monday it was queued for. The message goes through the outbox from the
subscriber's chosen mailbox, with the outbox's at-most-once states and gate.
Flushes only; the job commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Campaign, DigestSubscription, Mailbox, Role, User, utcnow
from crm.models.campaign import campaign_members
from crm.outreach.one_offs import queue_one_off
from crm.reports.dashboard import build_dashboard
from crm.reports.digest import digest_message
from crm.reports.params import ReportScope

# The quarter goal the digest's plan uses (the dashboard's default).
DIGEST_GOAL = 25

Queue = Callable[..., Any]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def subscription_of(user: User) -> DigestSubscription | None:
    found: DigestSubscription | None = db.session.scalar(
        select(DigestSubscription).where(DigestSubscription.user_id == user.id)
    )
    return found


def set_subscription(user: User, mailbox: Mailbox | None, wanted: bool) -> None:
    """Opt a manager in (from `mailbox`) or out of the weekly digest."""
    found = subscription_of(user)
    if not wanted:
        if found is not None:
            db.session.delete(found)
        db.session.flush()
        return
    if not user.has_role(Role.MANAGER):
        raise UserError("the weekly digest is for managers", field="enabled")
    if mailbox is None:
        raise UserError("Mailbox: choose the mailbox the digest is sent from", field="mailbox")
    if found is None:
        found = DigestSubscription(user_id=user.id)
        db.session.add(found)
    found.mailbox_id = mailbox.id
    db.session.flush()


def scope_for(user: User) -> ReportScope:
    """The campaigns a subscriber may see: every active one for managers."""
    stmt = select(Campaign.id).where(Campaign.archived.is_(False))
    if not user.has_role(Role.MANAGER):
        stmt = stmt.join(campaign_members, campaign_members.c.campaign_id == Campaign.id).where(
            campaign_members.c.user_id == user.id
        )
    return ReportScope(tuple(db.session.scalars(stmt)))


def compose_digest(user: User, now: datetime) -> tuple[str, str]:
    """The subject and body of a subscriber's digest for the week `now` falls in."""
    monday = monday_of(now.date())
    board = build_dashboard(scope_for(user), now.date(), DIGEST_GOAL)
    url = current_app.config.get("BASE_URL", "").rstrip("/") + "/reports"
    return digest_message(board, monday, url)


def queue_weekly_digests(now: datetime | None = None, queue: Queue | None = None) -> dict[str, int]:
    """Queue this week's digest for each subscriber not served yet; return the counts."""
    now = now or utcnow()
    monday = monday_of(now.date())
    queue = queue or queue_one_off
    counts = {"queued": 0, "skipped": 0}
    due = db.session.scalars(
        select(DigestSubscription)
        .join(User, User.id == DigestSubscription.user_id)
        .where(User.active.is_(True))
        .where((DigestSubscription.last_week.is_(None)) | (DigestSubscription.last_week < monday))
        .order_by(DigestSubscription.id)
    ).all()
    for subscription in due:
        user, mailbox = subscription.user, subscription.mailbox
        if mailbox is None or not user.has_role(Role.MANAGER):
            counts["skipped"] += 1
            continue
        subject, body = compose_digest(user, now)
        queue(mailbox=mailbox, to_email=user.email, to_name=user.name, subject=subject,
              body=body, prospect=None, actor=None, now=now)  # fmt: skip
        subscription.last_week = monday
        counts["queued"] += 1
    db.session.flush()
    return counts


def job_queue_weekly_digests() -> dict[str, int]:
    """Queue the week's digests for the send pass to deliver (a `crm worker` job); commit."""
    counts = queue_weekly_digests()
    db.session.commit()
    return counts
