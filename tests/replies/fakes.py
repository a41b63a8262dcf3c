"""An in-memory TouchLookup and the labels of the mail corpus (tests/mail/corpus)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm.core.domains import DomainError, registrable_domain
from crm.replies.matching import TouchRef

CORPUS = Path(__file__).parents[1] / "mail" / "corpus"


@dataclass
class FakeLookup:
    """Our sent touches, kept in a list; records every question asked."""

    touches: list[TouchRef] = field(default_factory=list)
    asked: list[tuple[str, object]] = field(default_factory=list)

    def touches_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, TouchRef]:
        self.asked.append(("ids", tuple(message_ids)))
        return {t.message_id: t for t in self.touches if t.message_id in message_ids}

    def touches_sent_to(self, address: str) -> Sequence[TouchRef]:
        self.asked.append(("address", address))
        return [t for t in self.touches if t.contact_email == address and t.sent_at]

    def touches_sent_to_domain(self, domain: str) -> Sequence[TouchRef]:
        self.asked.append(("domain", domain))
        found = []
        for touch in self.touches:
            try:
                theirs = registrable_domain(touch.contact_email.rpartition("@")[2])
            except DomainError:
                continue
            if theirs == domain and touch.sent_at:
                found.append(touch)
        return found


def touch(
    message_id: str, to: str, sent_at: datetime | None, *, step: int = 1, number: int = 1
) -> TouchRef:
    return TouchRef(
        touch_id=number, enrollment_id=number, prospect_id=number, contact_email=to,
        message_id=message_id, sent_at=sent_at, step=step,
    )  # fmt: skip


@dataclass(frozen=True)
class Label:
    """The expected verdict on one corpus message."""

    name: str
    kind: str
    match: str
    touch: str | None = None
    bounce_recipient: str | None = None
    bounce_status: str | None = None
    return_date: date | None = None
    outcome: str | None = None
    own_copy: bool = False


def corpus_labels() -> tuple[str, FakeLookup, list[Label]]:
    """Return the mailbox address, a lookup holding the corpus touches, and the labels."""
    data: dict[str, Any] = tomllib.loads((CORPUS / "labels.toml").read_text())
    lookup = FakeLookup(
        [
            touch(mid, spec["to"], spec["sent_at"], step=spec.get("step", 1), number=n)
            for n, (mid, spec) in enumerate(data["touches"].items(), 1)
        ]
    )
    labels = [Label(name=name, **spec) for name, spec in data["messages"].items()]
    return data["mailbox"], lookup, labels
