"""A mailbox's sending slot: unpaused, under its daily cap, past its spacing (DESIGN §5).

Taken in the same transaction that moves a touch to ``sending`` (a
compare-and-set on the mailbox row, so two senders never both take the last
send of the day), and given back when the server refused the message before
DATA. Functions here execute statements and flush; the sender pass commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, or_, update

from crm.extensions import db
from crm.models import Mailbox, UTCDateTime


@dataclass(frozen=True)
class MailboxSlot:
    """The mailbox rules a send must fit in, checked again in the database."""

    mailbox_id: int
    day_start: datetime  # the mailbox's local day, as UTC
    daily_cap: int | None
    min_spacing: timedelta


def take_slot(slot: MailboxSlot, now: datetime) -> str | None:
    """Count a send in the mailbox's day if it is unpaused, under its cap and past its spacing."""
    spacing, cap = slot.min_spacing > timedelta(0), slot.daily_cap is not None
    params: dict[str, Any] = {"mailbox": slot.mailbox_id, "now": now, "day_start": slot.day_start}
    if spacing:
        params["ready_before"] = now - slot.min_spacing
    if cap:
        params["cap"] = slot.daily_cap
    result = db.session.execute(_take_slot_statement(spacing, cap), params)
    return None if result.rowcount == 1 else "mailbox"  # type: ignore[attr-defined]


@cache
def _take_slot_statement(spacing: bool, cap: bool) -> Any:
    day_start = bindparam("day_start", type_=UTCDateTime())
    rules = [Mailbox.id == bindparam("mailbox"), Mailbox.paused.is_(False)]
    if spacing:
        ready_before = bindparam("ready_before", type_=UTCDateTime())
        rules.append(or_(Mailbox.last_sent_at.is_(None), Mailbox.last_sent_at <= ready_before))
    if cap:
        rules.append(
            or_(
                Mailbox.cap_day_start.is_(None),
                Mailbox.cap_day_start != day_start,
                Mailbox.cap_day_sent < bindparam("cap"),
            )
        )
    return (
        update(Mailbox)
        .where(*rules)
        .values(
            last_sent_at=bindparam("now", type_=UTCDateTime()),
            cap_day_start=day_start,
            cap_day_sent=case(
                (Mailbox.cap_day_start == day_start, Mailbox.cap_day_sent + 1), else_=1
            ),
        )
        .execution_options(synchronize_session=False)
    )


def give_back_slot(slot: MailboxSlot) -> None:
    """Return the day's slot of a message the server never received (refused before DATA).

    ``last_sent_at`` stays, so the spacing counts from the attempt: later, never sooner.
    """
    db.session.execute(
        update(Mailbox)
        .where(
            Mailbox.id == slot.mailbox_id,
            Mailbox.cap_day_start == slot.day_start,
            Mailbox.cap_day_sent > 0,
        )
        .values(cap_day_sent=Mailbox.cap_day_sent - 1)
        .execution_options(synchronize_session=False)
    )
