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

from sqlalchemy import bindparam, select, text

from crm.models import (
    Enrollment,
    EnrollmentState,
    InboundMessage,
    Mailbox,
    Suppression,
    Touch,
    TouchState,
)
from crm.models.base import in_list

touches = Touch.__table__
mailboxes = Mailbox.__table__
enrollments = Enrollment.__table__
inbound = InboundMessage.__table__
suppressions = Suppression.__table__

CLAIMABLE = (TouchState.SCHEDULED, TouchState.RETRY_WAIT)
# States a claimed touch's holder may still record an outcome from (a
# recovered `sending` touch is `uncertain`, but a late 250 still counts).
HELD = (TouchState.CLAIMED, TouchState.SENDING, TouchState.UNCERTAIN)


def by_primary_key(state_test: Any) -> Any:
    """Return a test of a touch's state that no index can serve, for statements by id.

    PostgreSQL's statistics see almost no claimed or sending touches, so for
    ``id = :tid AND state = 'claimed'`` it may estimate one row either way and
    walk ix_touches_state_due instead of the primary key: through every dead
    entry a long send pass leaves there, slower with each message. ``(...) IS
    TRUE`` means the same (state is never NULL) and leaves only the key.
    """
    return state_test.is_(True)


@cache
def claim_batch() -> Any:
    """Claim the first ``limit`` due touches of a mailbox in one statement (SQLite).

    SQLite runs one writer at a time, so choosing the touches and taking them
    happen with no other sender in between; the outer conditions are the
    compare-and-set all the same.
    """
    due = touches.alias("due")
    e = enrollments.c
    # Written as constants so SQLite matches ix_touches_pending_due (see outbox.PENDING).
    pending = text("due.state IN ('scheduled', 'retry_wait')")
    first = (
        select(due.c.id)
        .join(enrollments, e.id == due.c.enrollment_id)
        .where(
            pending,
            due.c.due_at <= bindparam("now"),
            e.mailbox_id == bindparam("mailbox_id"),
            e.state == EnrollmentState.ACTIVE,
            due.c.id.not_in(bindparam("exclude", expanding=True)),
        )
        .order_by(due.c.due_at, due.c.id)
        .limit(bindparam("limit"))
    )
    t = touches.c
    return (
        touches.update()
        .where(
            t.id.in_(first.scalar_subquery()), t.state.in_(CLAIMABLE), t.due_at <= bindparam("now")
        )
        .values(
            state=TouchState.CLAIMED, claimed_by=bindparam("holder"), lease_until=bindparam("lease")
        )
        .returning(t.id)
    )


@cache
def claim_ids() -> Any:
    """Mark touches locked by this transaction ``claimed`` (PostgreSQL's claim)."""
    t = touches.c
    return (
        touches.update()
        .where(in_list(t.id, "ids", postgres=True))
        .values(
            state=TouchState.CLAIMED, claimed_by=bindparam("holder"), lease_until=bindparam("lease")
        )
    )


@cache
def release(with_note: bool, postgres: bool) -> Any:
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
            in_list(t.id, "ids", postgres),
            t.claimed_by == bindparam("holder"),
            by_primary_key(t.state == TouchState.CLAIMED),
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
            by_primary_key(t.state == TouchState.CLAIMED),
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
            by_primary_key(t.state.in_(HELD)),
        )
        .values(
            state=bindparam("v_state"),
            lease_until=None,
            last_error=bindparam("v_note"),
            **{key: bindparam(f"v_{key}") for key in keys},
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
