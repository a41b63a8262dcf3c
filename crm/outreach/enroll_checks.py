"""What keeps a prospect or a mailbox out of an enrollment, checked before anything is planned."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

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
    query = (
        select(Prospect.domain, Campaign.name)
        .join(Enrollment, Enrollment.prospect_id == Prospect.id)
        .join(Campaign, Campaign.id == Prospect.campaign_id)
        .where(Enrollment.state.in_(LIVE_STATES))
    )
    found: dict[str, str] = {}
    for domain, campaign in _rows_in(query, Prospect.domain, domains):
        found.setdefault(domain, campaign)
    return found


def live_contact_emails(emails: Iterable[str]) -> set[str]:
    """Return the addresses already in a live sequence anywhere."""
    query = (
        select(Contact.email)
        .join(Enrollment, Enrollment.contact_id == Contact.id)
        .where(Enrollment.state.in_(LIVE_STATES))
    )
    return {email for (email,) in _rows_in(query, Contact.email, emails)}


def _rows_in(query: Any, column: Any, values: Iterable[str]) -> list[Any]:
    """Run the query for the values of a column, 500 at a time (SQLite's bound-parameter limit)."""
    wanted = sorted(set(values))
    chunks = (wanted[start : start + 500] for start in range(0, len(wanted), 500))
    return [row for chunk in chunks for row in db.session.execute(query.where(column.in_(chunk)))]


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
