"""What an inbound message answers: the touch it is matched to, and how (DESIGN §6).

Pure rules: the database is reached through the small `TouchLookup` protocol
(`crm.replies.receive.DbTouchLookup` implements it with queries), and the
verdict is returned as plain values.

Matching, in order:
1. In-Reply-To / References naming one of our touches' Message-IDs (for a
   bounce also the Message-ID of the returned original in the report);
2. for a bounce, the failed recipient among addresses we wrote to;
3. the sender's address among contacts who received a touch;
4. any address at the same registrable domain that received one (a colleague
   answering), but never at a free-mail provider.
IDs that merely appear in the body (a quoted thread) are never read, and our
own sent copies (From one of our mailboxes, or carrying a touch's own
Message-ID) are recognised first and skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from crm.core.domains import DomainError, registrable_domain
from crm.mail.classify import BounceInfo, Classification, classify
from crm.mail.parse import InboundFacts

MatchMethod = Literal[
    "in_reply_to", "references", "bounce_original", "bounce_recipient", "sender", "domain"
]  # fmt: skip
# Methods that mean the message names one of our Message-IDs in its own headers.
THREAD_METHODS: frozenset[str] = frozenset({"in_reply_to", "references", "bounce_original"})

# A sent message and the reply to it may carry clocks that disagree a little.
CLOCK_SKEW = timedelta(minutes=10)

# Addresses at these domains belong to unrelated people: never match "a colleague".
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
    "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de",
    "freenet.de", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
    "hotmail.fr", "yahoo.fr", "hotmail.es", "yahoo.es", "yahoo.co.uk", "hotmail.co.uk",
    "btinternet.com", "mail.ru", "yandex.ru", "yandex.com", "zoho.com", "fastmail.com",
    "hey.com", "tutanota.com", "qq.com", "163.com",
})  # fmt: skip


@dataclass(frozen=True)
class TouchRef:
    """The facts of one sent touch that matching needs."""

    touch_id: int
    enrollment_id: int
    prospect_id: int
    contact_email: str
    message_id: str
    sent_at: datetime | None
    step: int = 1


class TouchLookup(Protocol):
    """How matching reads our touches; the service implements it with queries."""

    def touches_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, TouchRef]:
        """Return our touches whose Message-ID is one of `message_ids`, keyed by that ID."""
        ...

    def touches_sent_to(self, address: str) -> Sequence[TouchRef]:
        """Return the sent touches whose recipient is `address` (lower-case)."""
        ...

    def touches_sent_to_domain(self, domain: str) -> Sequence[TouchRef]:
        """Return the sent touches whose recipient's registrable domain is `domain`."""
        ...


@dataclass(frozen=True)
class Match:
    """The touch a message answers, how it was found, and a line saying so."""

    touch: TouchRef
    method: MatchMethod
    detail: str


@dataclass(frozen=True)
class InboundReading:
    """The verdict on one inbound message: our own copy, or its match and classification."""

    own_copy: bool
    match: Match | None
    classification: Classification


def _domain(address: str) -> str | None:
    host = address.rpartition("@")[2]
    if not host:
        return None
    try:
        return registrable_domain(host)
    except DomainError:
        return None


def _latest_before(touches: Sequence[TouchRef], when: datetime | None) -> TouchRef | None:
    """Return the most recently sent touch that was sent before the message was written."""
    sent = [t for t in touches if t.sent_at is not None]
    if when is not None:
        sent = [t for t in sent if t.sent_at is not None and t.sent_at <= when + CLOCK_SKEW]
    return max(sent, key=lambda t: (t.sent_at or datetime.min.replace(tzinfo=UTC), t.step),
               default=None)  # fmt: skip


_SAYS: dict[str, str] = {
    "in_reply_to": "In-Reply-To names our message",
    "references": "References name our message",
    "bounce_original": "the bounce returns our message",
}


def _thread_ids(facts: InboundFacts, bounce: BounceInfo | None) -> list[tuple[str, MatchMethod]]:
    """Return the IDs to look up, most telling first, with the header each came from."""
    pairs: list[tuple[str, MatchMethod]] = []
    if bounce is not None and facts.original_message_id:
        pairs.append((facts.original_message_id, "bounce_original"))
    if facts.in_reply_to:
        pairs.append((facts.in_reply_to, "in_reply_to"))
    pairs += [(i, "references") for i in reversed(facts.references)]  # newest first
    unique: dict[str, MatchMethod] = {}
    for message_id, method in pairs:
        unique.setdefault(message_id, method)
    return list(unique.items())


def _by_ids(
    pairs: Sequence[tuple[str, MatchMethod]], found: Mapping[str, TouchRef]
) -> Match | None:
    for message_id, method in pairs:
        touch = found.get(message_id)
        if touch is not None:
            return Match(touch, method, f"{_SAYS[method]} {message_id}")
    return None


def match_message(
    facts: InboundFacts,
    lookup: TouchLookup,
    *,
    bounce: BounceInfo | None = None,
    our_domains: Collection[str] = (),
    known: Mapping[str, TouchRef] | None = None,
) -> Match | None:
    """Find the touch a message answers; with `bounce`, the touch that bounced.

    `known` is the result of `lookup.touches_by_message_ids` for the message's IDs
    when the caller already has it.
    """
    pairs = _thread_ids(facts, bounce)
    if known is None:
        ids = [i for i, _ in pairs]
        known = lookup.touches_by_message_ids(ids) if ids else {}
    found = _by_ids(pairs, known)
    if found is not None:
        return found
    if bounce is not None:  # a bounce comes from a mail server: never guess by its sender
        if not bounce.recipient:
            return None
        touch = _latest_before(lookup.touches_sent_to(bounce.recipient.lower()), None)
        if touch is None:
            return None
        return Match(touch, "bounce_recipient", f"bounce for {bounce.recipient}, who we wrote to")
    sender = facts.from_address
    if not sender:
        return None
    touch = _latest_before(lookup.touches_sent_to(sender), facts.date)
    if touch is not None:
        return Match(touch, "sender", f"from {sender}, who received step {touch.step}")
    domain = _domain(sender)
    if domain is None or domain in FREE_MAIL_DOMAINS or domain in our_domains:
        return None
    touch = _latest_before(lookup.touches_sent_to_domain(domain), facts.date)
    if touch is None:
        return None
    return Match(
        touch, "domain", f"from {sender}, a colleague of {touch.contact_email} at {domain}"
    )


def read_inbound(
    facts: InboundFacts,
    lookup: TouchLookup,
    *,
    mailbox_addresses: Collection[str],
    now: datetime,
) -> InboundReading:
    """Match and classify one message read from one of our mailboxes."""
    ours = {a.lower() for a in mailbox_addresses}
    candidates = [facts.message_id, facts.original_message_id, *facts.thread_ids]
    ids = list(dict.fromkeys(i for i in candidates if i))
    known = lookup.touches_by_message_ids(ids) if ids else {}
    if facts.from_address in ours or (facts.message_id and facts.message_id in known):
        own = Classification("unrelated", ["our own sent message"])
        return InboundReading(own_copy=True, match=None, classification=own)
    our_domains = {d for a in ours if (d := _domain(a))}
    first = classify(facts, now=now)  # a bounce is a bounce whoever it concerns
    if first.bounce is not None:
        found = match_message(facts, lookup, bounce=first.bounce, known=known)
        return InboundReading(own_copy=False, match=found, classification=first)
    found = match_message(facts, lookup, our_domains=our_domains, known=known)
    method = found.method if found is not None else None
    classification = classify(
        facts,
        references_us=method in THREAD_METHODS,
        from_correspondent=method == "sender",
        from_colleague=method == "domain",
        now=now,
    )
    if classification.kind == "unrelated" and found and found.method not in THREAD_METHODS:
        found = None  # a newsletter from a prospect's address answers nothing of ours
    return InboundReading(own_copy=False, match=found, classification=classification)
