"""Receive fetched messages into the database: match, classify, store, apply their effects.

The poll pass (`crm.replies.poll_pass`) hands over each batch it read from a
folder; `receive` stores the new messages with one INSERT and then applies
their effects in order (`crm.replies.effects`). The caller de-duplicates and
commits. `DbTouchLookup` is the database side of matching.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from crm.core.domains import DomainError, registrable_domain
from crm.core.storable import storable
from crm.extensions import db
from crm.mail.imap import FetchedMessage
from crm.mail.parse import InboundFacts
from crm.models import (
    Contact,
    Enrollment,
    InboundKind,
    InboundMessage,
    Mailbox,
    OneOffMessage,
    ReplyOutcome,
    Touch,
)
from crm.replies.effects import apply_effects
from crm.replies.matching import InboundReading, TouchLookup, TouchRef, read_inbound
from crm.replies.outcome import suggest_outcome


def our_addresses() -> set[str]:
    """Every address our mailboxes send from or log in as: mail from these is our own."""
    found: set[str] = set()
    for email, username in db.session.execute(select(Mailbox.from_email, Mailbox.username)):
        found.add(email.strip().lower())
        if "@" in (username or ""):
            found.add(username.strip().lower())
    return found


class DbTouchLookup:
    """`crm.replies.matching.TouchLookup` over the database, cached for one pass."""

    def __init__(self) -> None:
        self._by_id: dict[str, TouchRef | None] = {}
        self._to_address: dict[str, list[TouchRef]] = {}
        self._to_domain: dict[str, list[TouchRef]] = {}

    @staticmethod
    def _select() -> Any:
        return (
            select(
                Touch.id,
                Touch.enrollment_id,
                Enrollment.prospect_id,
                Contact.email,
                Touch.message_id,
                Touch.sent_at,
                Touch.step,
            )
            .join(Enrollment, Enrollment.id == Touch.enrollment_id)
            .join(Contact, Contact.id == Enrollment.contact_id)
        )

    @staticmethod
    def _refs(rows: Sequence[Any]) -> list[TouchRef]:
        return [TouchRef(r[0], r[1], r[2], r[3].lower(), r[4], r[5], r[6]) for r in rows]

    def prefetch(self, facts: Iterable[InboundFacts]) -> None:
        """Look up the Message-IDs of a whole batch at once (our touches never change in it)."""
        ids = {i for f in facts for i in (f.message_id, f.original_message_id, *f.thread_ids) if i}
        self._load(sorted(ids))

    def _load(self, ids: Sequence[str]) -> None:
        wanted = [i for i in ids if i not in self._by_id and len(i) <= 255]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = db.session.execute(self._select().where(Touch.message_id.in_(chunk))).all()
            found = {ref.message_id: ref for ref in self._refs(rows)}
            found.update(self._our_replies(i for i in chunk if i not in found))
            self._by_id.update({i: found.get(i) for i in chunk})

    def _our_replies(self, ids: Iterable[str]) -> dict[str, TouchRef]:
        """Our replies sent from the app stand for the touch of the thread they answered.

        Only a reply that went to the touch's own address: a bounce of our reply to a
        colleague must never be read as the touch's address bouncing.
        """
        wanted = list(ids)
        if not wanted:
            return {}
        rows = db.session.execute(
            self._select()
            .add_columns(OneOffMessage.message_id)
            .join(InboundMessage, InboundMessage.matched_touch_id == Touch.id)
            .join(OneOffMessage, OneOffMessage.in_reply_to == InboundMessage.message_id)
            .where(
                OneOffMessage.message_id.in_(wanted),
                func.lower(OneOffMessage.to_email) == func.lower(Contact.email),
            )
        ).all()
        return {row[-1]: ref for row, ref in zip(rows, self._refs(rows), strict=True)}

    def touches_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, TouchRef]:
        wanted = list(dict.fromkeys(message_ids))[:200]  # a References header can be huge
        self._load(wanted)
        return {i: ref for i in wanted if (ref := self._by_id.get(i)) is not None}

    def touches_sent_to(self, address: str) -> Sequence[TouchRef]:
        address = address.strip().lower()
        if address not in self._to_address:
            rows = db.session.execute(
                self._select().where(Contact.email == address, Touch.sent_at.is_not(None))
            ).all()
            self._to_address[address] = self._refs(rows)
        return self._to_address[address]

    def touches_sent_to_domain(self, domain: str) -> Sequence[TouchRef]:
        domain = domain.strip().lower()
        if domain not in self._to_domain:
            escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = db.session.execute(
                self._select().where(
                    Touch.sent_at.is_not(None),
                    or_(
                        Contact.email.like(f"%@{escaped}", escape="\\"),
                        Contact.email.like(f"%.{escaped}", escape="\\"),
                    ),
                )
            ).all()
            self._to_domain[domain] = [
                ref for ref in self._refs(rows) if _registrable(ref.contact_email) == domain
            ]
        return self._to_domain[domain]


def _registrable(address: str) -> str | None:
    try:
        return registrable_domain(address.rpartition("@")[2])
    except DomainError:
        return None


def receive_messages(
    mailbox_id: int,
    folder: str,
    items: Sequence[FetchedMessage],
    *,
    lookup: TouchLookup,
    ours: Collection[str],
    now: datetime,
    failure: str | None = None,
) -> list[InboundMessage]:
    """Match, classify and store fetched messages (one INSERT), then apply their effects in order.

    Returns the stored messages; our own sent copies are never stored. With
    `failure` (applying the effects failed once already) the messages are
    stored with that error instead of their effects.
    """
    messages = []
    with db.session.no_autoflush:  # the lookups must not flush each message on its own
        for item in items:
            reading = read_inbound(item.facts, lookup, mailbox_addresses=ours, now=now)
            if reading.own_copy:
                continue
            key = item.facts.dedupe_key[:998]
            message = _new_message(mailbox_id, folder, item, key, reading, now)
            db.session.add(message)
            messages.append(message)
    if not messages:
        return []
    db.session.flush()
    for message in messages:
        if failure is None:
            apply_effects(message, now=now)
        else:
            message.effects = [f"applying the effects failed: {failure[:500]}"]
    return messages


def store_unreadable(
    mailbox_id: int, folder: str, item: FetchedMessage, error: str, now: datetime
) -> InboundMessage:
    """Store a message that could not be stored even without its effects, from fixed text.

    It waits in triage, where a person opens it in the mailbox by its UID, and the
    poll moves past it: one message the app cannot read must not stop the mailbox
    (every later reply would go unread).
    """
    where = f"UID {item.uid} of {folder[:200]}"
    message = InboundMessage(
        mailbox_id=mailbox_id, folder=folder[:255], uid=item.uid,
        uidvalidity=item.cursor.uidvalidity,
        message_id=f"<unreadable-{item.cursor.uidvalidity}-{item.uid}@linkgap.invalid>",
        in_reply_to="", references="", from_address="", from_name="not read", to_addresses="",
        subject=f"A message Linkgap could not read ({where})",
        received_at=item.internal_date or now,
        snippet=f"Open {where} in the mailbox itself and assign it if it is a reply.",
        kind=InboundKind.HUMAN_REPLY,  # triage lists it; nothing is applied until assigned
        evidence=[], match_method="", match_detail="",
        effects=[f"could not be stored: {storable(error)[:500]}"], created_at=now,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    return message


def _new_message(
    mailbox_id: int,
    folder: str,
    item: FetchedMessage,
    key: str,
    reading: InboundReading,
    now: datetime,
) -> InboundMessage:
    facts = item.facts
    verdict = reading.classification
    bounce = verdict.bounce
    match = reading.match
    snippet = facts.reply_text or facts.snippet
    message = InboundMessage(
        mailbox_id=mailbox_id,
        folder=folder,
        uid=item.uid,
        uidvalidity=item.cursor.uidvalidity,
        message_id=key,
        in_reply_to=facts.in_reply_to or "",
        references=" ".join(facts.references),
        from_address=facts.from_address[:254],
        from_name=facts.from_name[:200],
        to_addresses=", ".join([*facts.to, *facts.cc]),
        subject=facts.subject,
        # When the server got it: the sender re-checks "no reply since enrollment"
        # against this, and a sender's clock may be anything.
        received_at=item.internal_date or facts.date or now,
        snippet=snippet,
        kind=InboundKind(verdict.kind),
        evidence=list(verdict.evidence),
        bounce_recipient=_cut((bounce.recipient or "").lower(), 254) if bounce else None,
        bounce_status=_cut(bounce.status, 20) if bounce else None,
        return_date=verdict.return_date,
        match_method=match.method if match else "",
        match_detail=match.detail if match else "",
        matched_touch_id=match.touch.touch_id if match else None,
        enrollment_id=match.touch.enrollment_id if match else None,
        prospect_id=match.touch.prospect_id if match else None,
        effects=[],
        created_at=now,
    )
    if verdict.kind == "human_reply":
        outcome, reason = suggest_outcome(snippet, facts.subject)
        message.suggested_outcome = ReplyOutcome(outcome)
        message.suggestion_reason = reason
    return message


def _cut(value: str | None, size: int) -> str | None:
    return value[:size] if value else None
