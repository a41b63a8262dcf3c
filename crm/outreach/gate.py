"""The re-check right before a touch is sent, as a pure decision (DESIGN §5).

The sender loads plain facts about the touch and its mailbox, calls
``decide`` and acts on the verdict:

- ``SEND``: go ahead now;
- ``DEFER(until, reason)``: leave the touch scheduled, due again at ``until``
  (not due yet, waiting for the step before, outside the window, daily cap,
  spacing);
- ``CANCEL(reason)``: never send it (enrollment stopped, a reply or hard
  bounce arrived, address or domain suppressed);
- ``BLOCK(reason)``: hold it until a person acts (mailbox or enrollment
  paused, template problem); the reason is shown on the touch.

Cancel reasons are checked first, then block reasons, then timing, so a
touch for a prospect who replied is cancelled even when it is also outside
its window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from crm.outreach.windows import SendingWindow, local_day_bounds, spacing_ready_at

# How long a follow-up waits before looking again when the step before it has
# not gone out yet (it is normally re-planned as soon as that step is sent).
PREVIOUS_STEP_RECHECK = timedelta(minutes=15)


class Verdict(StrEnum):
    SEND = "send"
    DEFER = "defer"
    CANCEL = "cancel"
    BLOCK = "block"


class Reason(StrEnum):
    """Why a touch is not sent now; stable codes to store on the touch."""

    ENROLLMENT_STOPPED = "enrollment_stopped"
    REPLIED = "replied"
    BOUNCED = "bounced"
    ADDRESS_SUPPRESSED = "address_suppressed"
    DOMAIN_SUPPRESSED = "domain_suppressed"
    ENROLLMENT_PAUSED = "enrollment_paused"
    MAILBOX_PAUSED = "mailbox_paused"
    TEMPLATE = "template"
    NO_CAP = "no_cap"
    NOT_DUE = "not_due"
    PREVIOUS_STEP = "previous_step"
    OUTSIDE_WINDOW = "outside_window"
    DAILY_CAP = "daily_cap"
    SPACING = "spacing"


@dataclass(frozen=True)
class Decision:
    """The verdict on one touch: SEND, or why not and (for DEFER) until when."""

    verdict: Verdict
    reason: Reason | None = None
    until: datetime | None = None
    detail: str = ""
    # For cap and spacing: when the mailbox itself may send again, whoever to.
    mailbox_until: datetime | None = None

    @property
    def holds_mailbox(self) -> bool:
        """Say whether the mailbox, not just this touch, must wait (cap, spacing, pause).

        A sender pass then stops the mailbox (until ``mailbox_until`` for cap
        and spacing) instead of asking about every other due touch.
        """
        return self.reason in _MAILBOX_REASONS


SEND = Decision(Verdict.SEND)

_MAILBOX_REASONS = frozenset(
    {Reason.DAILY_CAP, Reason.SPACING, Reason.MAILBOX_PAUSED, Reason.NO_CAP}
)


@dataclass(frozen=True)
class TouchFacts:
    """What the gate needs to know about one touch, its enrollment and recipient."""

    due_at: datetime
    enrollment_state: str  # active | paused | stopped | completed
    watch_from: datetime  # replies and bounces from this moment on stop the touch
    contact_tz: tzinfo  # the contact's timezone, or the mailbox's (resolve_timezone)
    last_reply_at: datetime | None = None  # latest human reply from this prospect/contact
    last_hard_bounce_at: datetime | None = None  # latest hard bounce of this address
    address_suppressed: bool = False
    domain_suppressed: bool = False
    render_problem: str | None = None  # a TemplateProblem's message, if rendering failed
    previous_step_pending: bool = False  # an earlier step of the enrollment is not sent yet
    # the earlier step's send + its gap (plan.add_days)
    not_before: datetime | None = None


@dataclass(frozen=True)
class MailboxFacts:
    """What the gate needs to know about the mailbox a touch goes out from."""

    window: SendingWindow
    tz: tzinfo  # the mailbox's timezone: its daily cap counts this local day
    daily_cap: int | None  # None: no cap
    sent_today: int  # sends in the local day [day_start, day_end)
    day_start: datetime
    day_end: datetime
    min_spacing: timedelta = timedelta(0)
    last_sent_at: datetime | None = None
    paused: bool = False
    pause_reason: str | None = None

    def sent_on_day_of(self, moment: datetime) -> int:
        """Return the known sends in moment's local day (0 for a later day)."""
        return self.sent_today if self.day_start <= moment < self.day_end else 0

    def after_send(self, at: datetime) -> MailboxFacts:
        """Return the facts once one more message went out at ``at``."""
        if self.day_start <= at < self.day_end:
            return replace(self, sent_today=self.sent_today + 1, last_sent_at=at)
        start, end = local_day_bounds(at, self.tz)
        return replace(self, sent_today=1, day_start=start, day_end=end, last_sent_at=at)


def _cancel(reason: Reason, detail: str) -> Decision:
    return Decision(Verdict.CANCEL, reason, None, detail)


def _block(reason: Reason, detail: str) -> Decision:
    return Decision(Verdict.BLOCK, reason, None, detail)


def _stop_reason(touch: TouchFacts) -> Decision | None:
    if touch.enrollment_state in ("stopped", "completed"):
        return _cancel(Reason.ENROLLMENT_STOPPED, f"the enrollment is {touch.enrollment_state}")
    if touch.last_reply_at is not None and touch.last_reply_at >= touch.watch_from:
        return _cancel(Reason.REPLIED, "the prospect replied")
    if touch.last_hard_bounce_at is not None and touch.last_hard_bounce_at >= touch.watch_from:
        return _cancel(Reason.BOUNCED, "the address bounced")
    if touch.address_suppressed:
        return _cancel(Reason.ADDRESS_SUPPRESSED, "the address is on the do-not-contact list")
    if touch.domain_suppressed:
        return _cancel(Reason.DOMAIN_SUPPRESSED, "the domain is on the do-not-contact list")
    return None


def _hold_reason(touch: TouchFacts, mailbox: MailboxFacts) -> Decision | None:
    if touch.enrollment_state == "paused":
        return _block(Reason.ENROLLMENT_PAUSED, "the enrollment is paused")
    if touch.enrollment_state != "active":
        state = touch.enrollment_state
        return _block(Reason.ENROLLMENT_PAUSED, f"unknown enrollment state {state!r}")
    if mailbox.paused:
        return _block(Reason.MAILBOX_PAUSED, mailbox.pause_reason or "the mailbox is paused")
    if touch.render_problem:
        return _block(Reason.TEMPLATE, touch.render_problem)
    if mailbox.daily_cap is not None and mailbox.daily_cap <= 0:
        return _block(Reason.NO_CAP, "the mailbox's daily cap is 0")
    return None


def decide(
    touch: TouchFacts,
    mailbox: MailboxFacts,
    now: datetime,
    jitter: timedelta = timedelta(0),
) -> Decision:
    """Decide whether a claimed touch may be sent at ``now``.

    ``jitter`` (see ``windows.draw_jitter``) is added when the touch waits for
    the mailbox's spacing, so sends do not fall on an exact beat.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    stopped = _stop_reason(touch)
    if stopped is not None:
        return stopped
    held = _hold_reason(touch, mailbox)
    if held is not None:
        return held
    if touch.previous_step_pending:
        return Decision(
            Verdict.DEFER,
            Reason.PREVIOUS_STEP,
            max(touch.due_at, now + PREVIOUS_STEP_RECHECK),
            "waiting for the previous step to be sent",
        )

    first: tuple[Reason, str] | None = None
    mailbox_until: datetime | None = None
    at = now
    if touch.due_at > at:
        at, first = touch.due_at, (Reason.NOT_DUE, "not due yet")
    if touch.not_before is not None and touch.not_before > at:
        at = touch.not_before
        first = first or (Reason.PREVIOUS_STEP, "too soon after the previous step")
    # Each constraint can only move `at` later; a few rounds settle it (the cap
    # moves to the next day, whose window and spacing are then re-checked).
    for _ in range(32):
        moved = False
        slot = mailbox.window.next_slot(at, touch.contact_tz)
        if slot != at:
            at, moved = slot, True
            first = first or (Reason.OUTSIDE_WINDOW, "outside the sending window")
        cap = mailbox.daily_cap
        if cap is not None and mailbox.sent_on_day_of(at) >= cap:
            at, moved = max(at, mailbox.day_end), True
            if first is None:
                first, mailbox_until = (Reason.DAILY_CAP, f"daily cap of {cap} reached"), at
        ready = spacing_ready_at(mailbox.last_sent_at, mailbox.min_spacing)
        if ready is not None and at < ready:
            at, moved = ready + max(jitter, timedelta(0)), True
            if first is None:
                first, mailbox_until = (Reason.SPACING, "spacing between sends"), at
        if not moved:
            break
    if first is None:
        return SEND
    return Decision(Verdict.DEFER, first[0], at, first[1], mailbox_until)
