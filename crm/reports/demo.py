"""The demo workspace's outreach history, so the dashboard answers its questions on day one.

Sixteen weeks of made-up but plausible outreach from the demo mailbox: the
best gap prospects enrolled on the angle their page suggests, touches sent,
human replies (more on tier 1, more for some angles), out-of-office notes,
a few bounces and unsubscribes, outcomes marked, links won with their
anchors and checked states, and a batch still in sequence for the forecast.
Seeded, so every demo is the same relative to today. Only flushes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from crm.extensions import db
from crm.models import (
    AnchorType,
    Campaign,
    Contact,
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    LinkState,
    Mailbox,
    Prospect,
    ProspectStatus,
    ReplyOutcome,
    Role,
    StopReason,
    Touch,
    TouchState,
    User,
    WonLink,
    utcnow,
)
from crm.outreach.sequences import sequence_for_angle

SEED = 14
WEEKS = 16
ENROLLED = 190
# The angle a page's link type suggests, and how often that angle gets a reply.
ANGLE_OF = {
    "roundup": ("roundup-inclusion", 0.26),
    "resource": ("resource-replacement", 0.22),
    "editorial": ("unlinked-mention", 0.30),
    "comparison": ("coverage-gap", 0.16),
    "guest_post": ("guest-post", 0.12),
}
TIER_LIFT = {1: 1.4, 2: 1.0, 3: 0.7}
DAYS = (0, 3, 8, 13)
ANCHORS = ((AnchorType.BRANDED, 5), (AnchorType.PARTIAL, 4), (AnchorType.NAKED, 2),
           (AnchorType.GENERIC, 2), (AnchorType.EXACT, 1), (AnchorType.IMAGE, 1))  # fmt: skip


def add_demo_outreach_history(campaign: Campaign) -> None:
    """Give the demo campaign sixteen weeks of outreach, replies and won links; flush only."""
    mailbox = db.session.scalar(select(Mailbox).order_by(Mailbox.id))
    specialist = db.session.scalar(
        select(User).where(User.role == Role.SPECIALIST).order_by(User.id)
    )
    if mailbox is None:
        return
    rng = random.Random(SEED)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    targets = list(campaign.target_pages)
    prospects = db.session.scalars(
        select(Prospect)
        .where(Prospect.campaign_id == campaign.id, Prospect.in_gap.is_(True),
               Prospect.excluded_by.is_(None))
        .order_by(Prospect.score.desc(), Prospect.id)
        .limit(ENROLLED + 2)
    ).all()  # fmt: skip
    for n, prospect in enumerate(prospects):
        angle, reply_chance = ANGLE_OF.get(prospect.link_type or "", ("skyscraper", 0.14))
        prospect.angle = angle
        prospect.assigned_to_id = specialist.id if specialist else None
        if targets:
            prospect.target_page_id = targets[n % len(targets)].id
        if n >= ENROLLED:  # two links won by a call, without any email
            _won(rng, prospect, now - timedelta(days=rng.randint(5, 60)), now)
            continue
        first = now - timedelta(days=rng.uniform(1, WEEKS * 7), hours=rng.randint(0, 8))
        chance = reply_chance * TIER_LIFT.get(prospect.tier or 3, 1.0)
        _enroll(rng, prospect, mailbox, specialist, angle, first, chance, now)
    db.session.flush()


def _enroll(rng: random.Random, prospect: Prospect, mailbox: Mailbox, specialist: User | None,
            angle: str, first: datetime, chance: float, now: datetime) -> None:  # fmt: skip
    sequence = sequence_for_angle(angle)
    contact = Contact(prospect=prospect, email=f"editor@{prospect.domain}", first_name="Alex",
                      source="demo")  # fmt: skip
    db.session.add(contact)
    enrollment = Enrollment(
        prospect=prospect, contact=contact, sequence=sequence, mailbox=mailbox,
        angle=angle, created_by_id=specialist.id if specialist else None,
    )  # fmt: skip
    db.session.add(enrollment)
    db.session.flush()
    reply_step = next((s for s in range(1, 5) if rng.random() < chance / (1 + s * 0.4)), None)
    bounce = rng.random() < 0.03
    touches = []
    for step, offset in enumerate(DAYS, start=1):
        when = first + timedelta(days=offset)
        went = when <= now and (reply_step is None or step <= reply_step)
        went = went and not (bounce and step > 1)
        due = when if went else max(when, now + timedelta(hours=step))
        touch = Touch(
            enrollment_id=enrollment.id, step=step, due_at=due, sent_at=when if went else None,
            message_id=f"<demo-{enrollment.id}-{step}@{mailbox.domain}>",
            state=TouchState.SENT if went else TouchState.SCHEDULED,
        )  # fmt: skip
        touches.append(touch)
    db.session.add_all(touches)
    db.session.flush()
    sent = [t for t in touches if t.state == TouchState.SENT]
    if bounce:
        _inbound(enrollment, sent[0], InboundKind.BOUNCE_HARD, sent[0].sent_at, "mailer-daemon")
        _stop(enrollment, touches, StopReason.BOUNCED, ProspectStatus.IN_SEQUENCE)
        return
    if rng.random() < 0.05 and len(sent) >= 2:
        _inbound(enrollment, sent[1], InboundKind.OOO, sent[1].sent_at, "editor")
    if reply_step is not None and reply_step <= len(sent):
        touch = sent[reply_step - 1]
        replied_at = (touch.sent_at or now) + timedelta(hours=rng.randint(2, 60))
        if replied_at > now:
            replied_at = now - timedelta(minutes=5)
        positive = rng.random() < 0.55
        outcome = ReplyOutcome.POSITIVE if positive else rng.choice(
            (ReplyOutcome.NEUTRAL, ReplyOutcome.NEGATIVE)
        )  # fmt: skip
        _inbound(enrollment, touch, InboundKind.HUMAN_REPLY, replied_at, "editor", outcome)
        _stop(enrollment, touches, StopReason.REPLIED, ProspectStatus.NEGOTIATING)
        if positive and rng.random() < 0.6:
            placed = replied_at + timedelta(days=rng.randint(4, 30))
            if placed <= now:
                _won(rng, prospect, placed, now)
        return
    if rng.random() < 0.02 and sent:
        _stop(enrollment, touches, StopReason.UNSUBSCRIBED, ProspectStatus.DECLINED)
    elif len(sent) == len(touches):
        enrollment.state = EnrollmentState.COMPLETED
        prospect.status = ProspectStatus.LOST
    else:
        prospect.status = ProspectStatus.IN_SEQUENCE


def _stop(enrollment: Enrollment, touches: list[Touch], reason: StopReason,
          status: ProspectStatus) -> None:  # fmt: skip
    enrollment.state = EnrollmentState.STOPPED
    enrollment.stop_reason = reason
    for touch in touches:
        if touch.state == TouchState.SCHEDULED:
            touch.state = TouchState.CANCELLED
    enrollment.prospect.status = status


def _inbound(enrollment: Enrollment, touch: Touch, kind: InboundKind, at: datetime | None,
             local: str, outcome: ReplyOutcome | None = None) -> None:  # fmt: skip
    domain = enrollment.prospect.domain
    db.session.add(
        InboundMessage(
            mailbox_id=enrollment.mailbox_id,
            message_id=f"<demo-in-{touch.id}-{kind.value}@{domain}>",
            in_reply_to=touch.message_id,
            from_address=f"{local}@{domain}",
            subject="Re: your page",
            received_at=at,
            kind=kind,
            matched_touch_id=touch.id,
            enrollment_id=enrollment.id,
            prospect_id=enrollment.prospect_id,
            match_method="in_reply_to",
            outcome=outcome,
            snippet="Thanks for reaching out." if kind == InboundKind.HUMAN_REPLY else "",
        )
    )


def _won(rng: random.Random, prospect: Prospect, placed: datetime, now: datetime) -> None:
    anchors, weights = zip(*ANCHORS, strict=True)
    age = (now - placed).days
    state = LinkState.UNCHECKED if age < 3 else rng.choices(
        (LinkState.LIVE, LinkState.INCONCLUSIVE, LinkState.LOST), (16, 2, 1)
    )[0]  # fmt: skip
    target = prospect.target_page.url if prospect.target_page else "https://sample-site.example/"
    db.session.add(
        WonLink(
            campaign_id=prospect.campaign_id,
            prospect_id=prospect.id,
            source_url=f"https://{prospect.domain}/resources/",
            target_url=target,
            target_page_id=prospect.target_page_id,
            anchor="Sample Site",
            anchor_type=rng.choices(anchors, weights)[0],
            placed_on=placed.date(),
            state=state,
        )
    )
    prospect.status = ProspectStatus.WON


def add_demo_rankings(campaign: Campaign) -> None:
    """Import seven fortnightly Search Console Pages exports for the demo's target pages; flush."""
    import tempfile
    from pathlib import Path

    from crm.reports.rankings.service import import_rankings

    rng = random.Random(SEED + 1)
    today = utcnow().date()
    pages = list(campaign.target_pages)
    first_link = {
        page.id: min((w.placed_on for w in db.session.scalars(
            select(WonLink).where(WonLink.target_page_id == page.id))), default=None)
        for page in pages
    }  # fmt: skip
    start = {page.id: rng.uniform(12, 30) for page in pages}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(7):
            as_of = today - timedelta(days=14 * (6 - n))
            rows = ["Top pages,Clicks,Impressions,CTR,Position"]
            for page in pages:
                placed = first_link[page.id]
                weeks_after = max(0, (as_of - placed).days / 7) if placed else 0
                position = max(2.0, start[page.id] - 1.1 * weeks_after + rng.uniform(-0.8, 0.8))
                impressions = int(4000 * (30 / position))
                clicks = int(impressions * min(0.3, 1.2 / position))
                ctr = f"{100 * clicks / impressions:.2f}%"
                rows.append(f'{page.url},"{clicks:,}",{impressions},{ctr},{position:.1f}')
            path = Path(folder) / f"Pages-{as_of.isoformat()}.csv"
            path.write_text("\n".join(rows) + "\n", encoding="utf-8")
            import_rankings(campaign, path, as_of, filename=path.name, actor=None)
    db.session.flush()
