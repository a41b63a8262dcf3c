"""The outbox's statements, built once with bound parameters (see crm.outreach.outbox).

The sender runs a handful of statements per message; building SQLAlchemy
constructs for each one cost more than executing them, so each statement is
made once per shape and executed on the session's connection with a dict of
parameters. Table-level (Core) statements also skip the ORM's bulk-update
bookkeeping: the outbox never relies on objects in the session being updated.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, false, or_, select, true

from crm.models import (
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    Mailbox,
    Suppression,
    Touch,
    TouchState,
)

touches = Touch.__table__
mailboxes = Mailbox.__table__
enrollments = Enrollment.__table__
inbound = InboundMessage.__table__
suppressions = Suppression.__table__

CLAIMABLE = (TouchState.SCHEDULED, TouchState.RETRY_WAIT)
# States a claimed touch's holder may still record an outcome from (a
# recovered `sending` touch is `uncertain`, but a late 250 still counts).
HELD = (TouchState.CLAIMED, TouchState.SENDING, TouchState.UNCERTAIN)


@cache
def take_claim() -> Any:
    """Compare-and-set one due touch to ``claimed`` (SQLite's claim, row by row)."""
    t = touches.c
    return (
        touches.update()
        .where(t.id == bindparam("tid"), t.state.in_(CLAIMABLE), t.due_at <= bindparam("now"))
        .values(
            state=TouchState.CLAIMED, claimed_by=bindparam("holder"), lease_until=bindparam("lease")
        )
    )


@cache
def claim_ids() -> Any:
    """Mark touches locked by this transaction ``claimed`` (PostgreSQL's claim)."""
    t = touches.c
    return (
        touches.update()
        .where(t.id.in_(bindparam("ids", expanding=True)))
        .values(
            state=TouchState.CLAIMED, claimed_by=bindparam("holder"), lease_until=bindparam("lease")
        )
    )


@cache
def release(with_note: bool) -> Any:
    t = touches.c
    values: dict[str, Any] = {
        "state": TouchState.SCHEDULED,
        "claimed_by": None,
        "lease_until": None,
    }
    if with_note:
        values["last_error"] = bindparam("note")
    return (
        touches.update()
        .where(
            t.id.in_(bindparam("ids", expanding=True)),
            t.claimed_by == bindparam("holder"),
            t.state == TouchState.CLAIMED,
        )
        .values(**values)
    )


@cache
def defer() -> Any:
    t = touches.c
    return (
        touches.update()
        .where(
            t.id == bindparam("tid"),
            t.claimed_by == bindparam("holder"),
            t.state == TouchState.CLAIMED,
        )
        .values(
            state=TouchState.SCHEDULED,
            due_at=bindparam("until"),
            claimed_by=None,
            lease_until=None,
            last_error=bindparam("note"),
        )
    )


@cache
def finish(keys: tuple[str, ...]) -> Any:
    """Move a held touch to a state, setting the given columns (parameters ``v_<column>``)."""
    t = touches.c
    return (
        touches.update()
        .where(
            t.id == bindparam("tid"),
            t.claimed_by == bindparam("holder"),
            t.state.in_(HELD),
        )
        .values(
            state=bindparam("v_state"),
            lease_until=None,
            last_error=bindparam("v_note"),
            **{key: bindparam(f"v_{key}") for key in keys},
        )
    )


@cache
def take_sending(stop_all_on_reply: bool) -> Any:
    """Compare-and-set claimed -> sending: the enrollment still active, no reply or bounce
    since it started, the address and its domain not suppressed."""
    t, e, i = touches.c, enrollments.c, inbound.c
    ours = i.enrollment_id == bindparam("eid")
    stops = or_(
        and_(
            i.kind == InboundKind.HUMAN_REPLY, or_(ours, true() if stop_all_on_reply else false())
        ),
        and_(i.kind == InboundKind.BOUNCE_HARD, ours),
    )
    return (
        touches.update()
        .where(
            t.id == bindparam("tid"),
            t.claimed_by == bindparam("holder"),
            t.state == TouchState.CLAIMED,
            exists().where(e.id == bindparam("eid"), e.state == EnrollmentState.ACTIVE),
            ~exists().where(
                i.prospect_id == bindparam("pid"), i.received_at >= bindparam("watch"), stops
            ),
            ~exists().where(suppressions.c.value.in_([bindparam("email"), bindparam("domain")])),
        )
        .values(
            state=TouchState.SENDING,
            attempts=bindparam("v_attempts"),
            lease_until=bindparam("lease"),
            subject=bindparam("v_subject"),
            body=bindparam("v_body"),
        )
    )


@cache
def take_slot(spacing: bool, cap: str) -> Any:
    """Compare-and-set the mailbox's counter; ``cap`` is "none", "zero" or "limited"."""
    m = mailboxes.c
    rules = [m.id == bindparam("mid"), m.paused == false()]
    if spacing:
        rules.append(or_(m.last_sent_at.is_(None), m.last_sent_at <= bindparam("ready_before")))
    same_day = and_(m.cap_day_start.is_not(None), m.cap_day_start == bindparam("day_start"))
    if cap == "zero":
        rules.append(false())
    elif cap == "limited":
        rules.append(or_(~same_day, m.cap_day_sent < bindparam("cap")))
    return (
        mailboxes.update()
        .where(*rules)
        .values(
            last_sent_at=bindparam("now"),
            cap_day_start=bindparam("day_start"),
            cap_day_sent=case((same_day, m.cap_day_sent + 1), else_=1),
        )
    )


@cache
def complete_enrollment() -> Any:
    e = enrollments.c
    return (
        enrollments.update()
        .where(e.id == bindparam("eid"), e.state == EnrollmentState.ACTIVE)
        .values(state=EnrollmentState.COMPLETED)
    )


@cache
def next_unsent() -> Any:
    """The later steps of an enrollment still to go, in order."""
    t = touches.c
    return (
        select(t.id, t.step, t.due_at)
        .where(
            t.enrollment_id == bindparam("eid"), t.step > bindparam("step"), t.state.in_(CLAIMABLE)
        )
        .order_by(t.step)
    )


@cache
def move_due() -> Any:
    t = touches.c
    return (
        touches.update()
        .where(t.id == bindparam("tid"), t.state.in_(CLAIMABLE))
        .values(due_at=bindparam("due"))
    )
