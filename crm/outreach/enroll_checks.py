"""What keeps a prospect or a mailbox out of an enrollment, checked before anything is planned."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select

from crm.core.errors import UserError
from crm.core.suppression import suppressed_addresses, suppression_for
from crm.extensions import db
from crm.models import Campaign, Contact, Enrollment, Mailbox, Prospect, ProspectStatus
from crm.outreach.lifecycle import LIVE_STATES

# A prospect past these is talking to us, won or lost: a bulk enrollment leaves it alone.
NOT_ENROLLABLE = {
    ProspectStatus.EXCLUDED: "the prospect is excluded; restore it first",
    ProspectStatus.REPLIED: "the prospect already replied",
    ProspectStatus.NEGOTIATING: "the prospect is negotiating",
    ProspectStatus.WON: "the link is already won",
    ProspectStatus.LOST: "the deal is lost; move it back to qualified first",
    ProspectStatus.NOT_A_FIT: "the prospect is not a fit; move it back to qualified first",
}


def require_sender_names(mailboxes: Iterable[Mailbox]) -> None:
    """Refuse the whole enrollment, in one line, when a mailbox it would use has no sender name."""
    nameless = [m.name for m in mailboxes if not (m.from_name or "").strip()]
    if nameless:
        raise UserError(
            f"mailbox {', '.join(nameless)} has no sender name (sender.name): set it on the "
            "Mailboxes page first",
            field="mailbox",
        )


# What to do about a merge field a prospect lacks, said next to the field's name.
_FILL_IN = {
    "prospect.evidence_url": "give the prospect its page (on its page, or crm prospects add "
    "CAMPAIGN URL)",
    "target.url": "map the prospect to a target page",
    "sender.name": "give the mailbox a sender name",
}
_MISSING_FIELD = re.compile(r'missing merge field "([a-z_]+\.[a-z_]+)"')


def with_fix(problem: str) -> str:
    """Add to a template problem what fills the missing merge field, when we know."""
    found = _MISSING_FIELD.search(problem)
    if found and found.group(1) in _FILL_IN:
        return f"{problem}: {_FILL_IN[found.group(1)]}"
    return problem


def live_domains(domains: Iterable[str]) -> dict[str, str]:
    """Return {domain: campaign name} for domains already in a live sequence anywhere."""
    wanted = sorted(set(domains))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.session.execute(
            select(Prospect.domain, Campaign.name)
            .join(Enrollment, Enrollment.prospect_id == Prospect.id)
            .join(Campaign, Campaign.id == Prospect.campaign_id)
            .where(Prospect.domain.in_(chunk), Enrollment.state.in_(LIVE_STATES))
        ).all()
        for domain, campaign in rows:
            found.setdefault(domain, campaign)
    return found


def live_contact_emails(emails: Iterable[str]) -> set[str]:
    wanted = sorted(set(emails))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            db.session.scalars(
                select(Contact.email)
                .join(Enrollment, Enrollment.contact_id == Contact.id)
                .where(Contact.email.in_(chunk), Enrollment.state.in_(LIVE_STATES))
            )
        )
    return found


def contact_problem(contact: Contact) -> str | None:
    if contact.bounced_at is not None:
        return "the address bounced"
    entry = suppression_for(contact.email)
    if entry is not None:
        what = "address" if entry.value == contact.email else f"domain {entry.value}"
        return f"the {what} is on the do-not-contact list"
    return None


def blockers(prospects: Sequence[Prospect], *, own_angle: bool) -> dict[int, str]:
    """Say, per prospect id, what keeps it out of an enrollment (cheap checks, no rendering).

    ``own_angle``: each prospect would use its own angle, so one without an angle
    is blocked. Suppressed addresses and templates are checked when enrolling.
    """
    out: dict[int, str] = {}
    busy = live_domains(p.domain for p in prospects)
    emails = [c.email for p in prospects for c in p.contacts]
    busy_contacts = live_contact_emails(emails)
    barred = suppressed_addresses(emails)
    for p in prospects:
        if p.status in NOT_ENROLLABLE:
            out[p.id] = NOT_ENROLLABLE[p.status]
        elif p.domain in busy:
            out[p.id] = "already in an active sequence"
        elif not p.contacts:
            out[p.id] = "no contact"
        elif not any(
            c.bounced_at is None and c.email not in barred and c.email not in busy_contacts
            for c in p.contacts
        ):
            out[p.id] = "no contact that may be emailed (suppressed, bounced or busy)"
        elif own_angle and not p.angle:
            out[p.id] = "no angle set for this prospect"
    return out


# What people do about a skip, said after the count ("87 have no contact — add contacts").
SKIP_ADVICE = {
    "no contact": "add contacts",
    "no angle set for this prospect": "set their angle, or choose one",
    "already in an active sequence": "wait for it to end, or allow it below",
    "no contact that may be emailed (suppressed, bounced or busy)": "add another contact",
}


def grouped(reasons: Iterable[str]) -> list[tuple[str, int, str]]:
    """Return (reason, count, advice) per distinct reason, the most common first."""
    counts: dict[str, int] = {}
    for reason in reasons:
        key = reason.split(" (campaign ")[0]
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(reason, n, SKIP_ADVICE.get(reason, "")) for reason, n in ordered]
