"""The hand-built outreach history every report test counts, with its answers written down.

Campaign "Reports", mailboxes ana-box and ben-box, specialist Sam, manager Morgan.

P1 tier 1, DR 45, resource page, resource replacement, Sam. E1 (ana-box): touch 1 sent
   Mon 2026-10-05 09:00, touch 2 Fri 10-09. A hard bounce matched to touch 1, then a
   human reply to touch 2 (the follow-up), marked positive. Link placed 10-25: 20 days.
P2 tier 1, DR 62, roundup, resource replacement, Sam: two contacts.
   E2a (ana-box): touches 1 and 2 sent 10-06 and 10-10; an out-of-office answers touch 2
   (not a reply). E2b (ben-box): touch 1 sent 10-06; a colleague at the domain (not a
   contact) replies to it, matched by domain, neutral.
P3 tier 2, DR 20, no link type, broken link, unassigned (enrolled by Morgan). E3
   (ben-box): touches 1-3 sent 10-12, 10-16, 10-21; stopped: unsubscribed.
P4 tier 2, no authority, broken link, Sam: a won link placed 10-20 without any touch.
P5 tier 3, DR 75, resource replacement, Sam: E5 planned, nothing sent (not contacted).
P6 tier 1, DR 35, resource page, resource replacement, Sam. E6 (ana-box): touch 1 sent
   Sun 10-18 23:30 UTC (week of Mon 10-12); a reply to it 10-19, positive; link placed
   11-12: 25 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from crm.extensions import db
from crm.models import Campaign, InboundKind, Mailbox, Prospect, ReplyOutcome, StopReason, User
from tests.factories import CampaignFactory, ContactFactory, ProspectFactory, UserFactory
from tests.outreach.factories import MailboxFactory
from tests.reports.factories import enrollment, inbound, won_link

RR = "resource-replacement"
BL = "broken-link"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Dataset:
    campaign: Campaign
    sam: User
    morgan: User
    ana_box: Mailbox
    ben_box: Mailbox
    prospects: dict[str, Prospect]


# The answers, per breakdown: (contacted, contacted prospects, replied, positive, placed,
# placed after email, bounces, unsubscribes, median days, mean days).
TOTAL = (5, 4, 3, 2, 3, 2, 1, 1, 22.5, 22.5)
BY_ANGLE = {
    "resource replacement": (4, 3, 3, 2, 2, 2, 1, 0, 22.5, 22.5),
    "broken link": (1, 1, 0, 0, 1, 0, 0, 1, None, None),
}
BY_TIER = {1: BY_ANGLE["resource replacement"], 2: BY_ANGLE["broken link"]}
BY_STEP = {
    1: (5, 4, 2, 1, 1, 1, 1, 0, 25.0, 25.0),
    2: (3, 3, 1, 1, 1, 1, 0, 0, 20.0, 20.0),
    3: (1, 1, 0, 0, 0, 0, 0, 1, None, None),
    None: (0, 0, 0, 0, 1, 0, 0, 0, None, None),
}
BY_MAILBOX = {
    "ana-box": (3, 3, 2, 2, 2, 2, 1, 0, 22.5, 22.5),
    "ben-box": (2, 2, 1, 0, 0, 0, 0, 1, None, None),
    None: (0, 0, 0, 0, 1, 0, 0, 0, None, None),
}
BY_WEEK = {
    "2026-10-05": (3, 2, 2, 1, 1, 1, 1, 0, 20.0, 20.0),
    "2026-10-12": (2, 2, 1, 1, 1, 1, 0, 1, 25.0, 25.0),
    None: (0, 0, 0, 0, 1, 0, 0, 0, None, None),
}
BY_AUTHORITY = {
    "0–29": (1, 1, 0, 0, 0, 0, 0, 1, None, None),
    "30–49": (2, 2, 2, 2, 2, 2, 1, 0, 22.5, 22.5),
    "50–69": (2, 1, 1, 0, 0, 0, 0, 0, None, None),
    None: (0, 0, 0, 0, 1, 0, 0, 0, None, None),
}
BY_SPECIALIST = {
    "Sam Specialist": (4, 3, 3, 2, 3, 2, 1, 0, 22.5, 22.5),
    "Morgan Manager": (1, 1, 0, 0, 0, 0, 0, 1, None, None),
}
# --from 2026-10-12 --to 2026-10-31: E3 and E6 were first sent then; P4's link was placed then.
IN_RANGE = (2, 2, 1, 1, 2, 1, 0, 1, 25.0, 25.0)


def counts_of(row: dict[str, Any]) -> tuple[Any, ...]:
    """A JSON row's counts in the order of the answers above."""
    return (
        row["contacted"], row["contacted_prospects"], row["replied"], row["positive"],
        row["placed"], row["placed_after_email"], row["bounces"], row["unsubscribes"],
        row["median_days_to_placement"], row["mean_days_to_placement"],
    )  # fmt: skip


def build_dataset() -> Dataset:
    """Create the history above and commit it."""
    sam = UserFactory(role="specialist", name="Sam Specialist", email="sam@linkgap.example")
    morgan = UserFactory(role="manager", name="Morgan Manager", email="morgan@linkgap.example")
    campaign = CampaignFactory(name="Reports", members=[sam])
    ana = MailboxFactory(name="ana-box")
    ben = MailboxFactory(name="ben-box")

    def prospect(domain: str, tier: int, authority: float | None, link_type: str | None,
                 angle: str, assigned: User | None) -> Prospect:  # fmt: skip
        return ProspectFactory(
            campaign=campaign, domain=domain, tier=tier, in_gap=True, authority=authority,
            link_type=link_type, angle=angle, assigned_to=assigned,
        )  # fmt: skip

    p1 = prospect("p1.example", 1, 45, "resource", RR, sam)
    e1 = enrollment(p1, ContactFactory(prospect=p1), ana, angle=RR, sent=[at(10, 5), at(10, 9)],
                    stop_reason=StopReason.REPLIED)  # fmt: skip
    inbound(e1, 1, InboundKind.BOUNCE_HARD, at(10, 5, 10), sender="mailer-daemon@p1.example")
    inbound(e1, 2, InboundKind.HUMAN_REPLY, at(10, 10), outcome=ReplyOutcome.POSITIVE)
    won_link(p1, date(2026, 10, 25))

    p2 = prospect("p2.example", 1, 62, "roundup", RR, sam)
    e2a = enrollment(p2, ContactFactory(prospect=p2, email="ed@p2.example"), ana, angle=RR,
                     sent=[at(10, 6), at(10, 10)])  # fmt: skip
    e2b = enrollment(p2, ContactFactory(prospect=p2, email="jo@p2.example"), ben, angle=RR,
                     sent=[at(10, 6, 11)], stop_reason=StopReason.REPLIED)  # fmt: skip
    inbound(e2a, 2, InboundKind.OOO, at(10, 11))
    inbound(e2b, 1, InboundKind.HUMAN_REPLY, at(10, 7), sender="boss@p2.example",
            outcome=ReplyOutcome.NEUTRAL, method="domain")  # fmt: skip

    p3 = prospect("p3.example", 2, 20, None, BL, None)
    enrollment(p3, ContactFactory(prospect=p3), ben, angle=BL,
               sent=[at(10, 12), at(10, 16), at(10, 21)], created_by=morgan,
               stop_reason=StopReason.UNSUBSCRIBED)  # fmt: skip

    p4 = prospect("p4.example", 2, None, "editorial", BL, sam)
    won_link(p4, date(2026, 10, 20))

    p5 = prospect("p5.example", 3, 75, "resource", RR, sam)
    enrollment(p5, ContactFactory(prospect=p5), ana, angle=RR, sent=[])

    p6 = prospect("p6.example", 1, 35, "resource", RR, sam)
    e6 = enrollment(p6, ContactFactory(prospect=p6), ana, angle=RR, sent=[at(10, 18, 23, 30)],
                    stop_reason=StopReason.REPLIED)  # fmt: skip
    inbound(e6, 1, InboundKind.HUMAN_REPLY, at(10, 19), outcome=ReplyOutcome.POSITIVE)
    won_link(p6, date(2026, 11, 12))
    db.session.commit()
    prospects = {p.domain: p for p in (p1, p2, p3, p4, p5, p6)}
    return Dataset(campaign, sam, morgan, ana, ben, prospects)
