"""One mailbox's part of a send pass (crm.outreach.sender): one connection, batches of touches.

Touches are claimed in batches; each is acted on in due order (sent,
deferred, cancelled or given back) and the next one is prepared while the
server answers the one going out. A send takes its touch on the commit
thread while the server answers the envelope (crm.outreach.send_commits).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from crm.core.errors import UserError
from crm.extensions import db
from crm.mail.smtp import MailTransport, make_transport
from crm.models import Campaign, Enrollment, Mailbox, StopReason, TouchState
from crm.outreach import fast_path, faults, outbox
from crm.outreach import send_facts as facts
from crm.outreach.context import best_evidence
from crm.outreach.gate import Decision, MailboxFacts, Reason, Verdict
from crm.outreach.lifecycle import stop_enrollment
from crm.outreach.mailboxes import mailbox_smtp_settings
from crm.outreach.send_commits import PassCommits
from crm.outreach.send_outcomes import apply_outcome
from crm.outreach.send_step import Prepared, Sending, prepare

if TYPE_CHECKING:
    from crm.outreach.sender import SenderSettings

_STOP_FOR = {
    Reason.REPLIED: StopReason.REPLIED,
    Reason.BOUNCED: StopReason.BOUNCED,
    Reason.ADDRESS_SUPPRESSED: StopReason.UNSUBSCRIBED,
    Reason.DOMAIN_SUPPRESSED: StopReason.UNSUBSCRIBED,
}


class _NotSending(Exception):
    """Raised before DATA when the touch may not go out after all (nothing is sent)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class MailboxPass:
    """One mailbox in one pass: one connection, batches of claimed touches."""

    mailbox_id: int
    holder: str
    clock: Callable[[], datetime]
    settings: SenderSettings
    rng: random.Random
    counts: Counter[str]
    stopped: bool = False
    # Touches given back still due (blocked, lost a race): not claimed again this pass.
    passed_over: set[int] = field(default_factory=set)
    steps: dict[int, dict[int, facts.StepText]] = field(default_factory=dict)
    sender: facts.Sender | None = None
    timezone: str = "UTC"  # the mailbox's
    # Read after each claim, then kept up to date with each send of this pass.
    mailbox_facts: MailboxFacts | None = None
    sending: Sending | None = None
    # The mailbox's facts once the message going out is sent (what the next is prepared with).
    anticipated: MailboxFacts | None = None
    commits: PassCommits = field(init=False)

    def run(self) -> None:
        self.commits = PassCommits(self.holder)
        failed = True
        try:
            self._run()
            failed = False
        finally:
            self.commits.close(failed)

    def _run(self) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is None:
            return
        db.session.refresh(mailbox)
        if mailbox.paused or self._mailbox_waits(mailbox):
            return
        self.sender = facts.Sender(
            mailbox.id,
            mailbox.from_email,
            mailbox.from_name,
            facts.window(mailbox.window_start, mailbox.window_end, mailbox.days),
        )
        self.timezone = mailbox.timezone
        self.sending = Sending(
            self.sender,
            mailbox.timezone,
            self.settings.base_url,
            self.settings.secret,
            self.settings.max_jitter,
            self.rng,
        )
        try:
            transport = self._transport(mailbox)
        except UserError as exc:  # the password cannot be decrypted
            self._pause(f"cannot read the mailbox password: {exc.message}")
            return
        with transport:
            while not self.stopped:
                ids = outbox.claim_due(
                    self.mailbox_id,
                    self.holder,
                    self.clock(),
                    limit=self.settings.batch,
                    lease=self.settings.lease,
                    exclude=self.passed_over,
                )
                self.commits.commit()
                if not ids:
                    break
                faults.reached("after-claim")
                rows = facts.read_batch(ids)
                # Read after the claim: a reply recorded since is seen; one recorded
                # later is caught by the compare-and-set that starts each send.
                batch = facts.read_batch_facts(rows)
                self.mailbox_facts = facts.read_mailbox_facts(self.mailbox_id, self.clock())
                self._touches(transport, rows, batch)

    def _mailbox_waits(self, mailbox: Mailbox) -> bool:
        """Say whether the mailbox is full for the day or must wait for its spacing."""
        now = self.clock()
        day_start, _ = facts.mailbox_day(now, mailbox.timezone)
        if (
            mailbox.daily_cap > 0
            and mailbox.cap_day_start == day_start
            and mailbox.cap_day_sent >= mailbox.daily_cap
        ):
            return True
        spacing = timedelta(seconds=mailbox.min_spacing_seconds)
        return mailbox.last_sent_at is not None and now < mailbox.last_sent_at + spacing

    def _transport(self, mailbox: Mailbox) -> MailTransport:
        settings = mailbox_smtp_settings(
            mailbox,
            password=None,
            timeout=self.settings.smtp_timeout,
            ca_file=self.settings.ca_file,
        )
        return make_transport(self.settings.transport, settings)

    def _evidence(self, rows: Sequence[Row[Any]]) -> dict[int, Any]:
        competitors: dict[int, list[str]] = {}
        for campaign_id in {r.campaign_id for r in rows}:
            campaign = db.session.get(Campaign, campaign_id)
            competitors[campaign_id] = campaign.competitor_domains if campaign else []
        return best_evidence(
            {r.prospect_id for r in rows},
            {r.prospect_id: competitors[r.campaign_id] for r in rows},
        )

    def _steps(self, sequence_id: int) -> dict[int, facts.StepText]:
        if sequence_id not in self.steps:
            self.steps[sequence_id] = facts.load_steps(sequence_id)
        return self.steps[sequence_id]

    # -- one touch ----------------------------------------------------------

    def _touches(
        self, transport: MailTransport, rows: Sequence[Row[Any]], batch: facts.BatchFacts
    ) -> None:
        """Act on a claimed batch in order, each touch prepared while the one before goes out."""
        evidence = self._evidence(rows)
        for sequence_id in {r.sequence_id for r in rows}:
            self._steps(sequence_id)  # read now, so a first touch is prepared without the database
        # The next touch, prepared while this one goes out, with the mailbox's
        # facts it assumed (they count this message): used only if they held.
        ahead: tuple[int, Prepared | Exception | None, MailboxFacts] | None = None
        for index, row in enumerate(rows):
            if self.stopped or self.mailbox_facts is None:
                outbox.release([r.id for r in rows[index:]], self.holder)
                self.commits.commit()
                return
            if ahead is not None and ahead[0] == row.id and ahead[2] is self.mailbox_facts:
                prepared = ahead[1]
                if isinstance(prepared, Exception):
                    raise prepared
            else:
                prepared = self._prepare(row, batch, evidence.get(row.prospect_id))
            ahead = None
            if prepared is None:  # the enrollment was deleted meanwhile (and its touches)
                continue
            following = rows[index + 1] if index + 1 < len(rows) else None

            def prepare_following(
                early: bool, following: Row[Any] | None = following, row: Row[Any] = row
            ) -> None:
                # Runs while the server answers this message, so it never raises:
                # an error is kept and raised when the next touch's turn comes.
                # Early (during RCPT TO, while the helper thread holds the
                # connection) only a first touch, which needs no database.
                nonlocal ahead
                if ahead is not None or following is None or self.anticipated is None:
                    return
                if following.enrollment_id == row.enrollment_id:
                    return
                if early and following.step > 1:
                    return
                if self.commits.holds(following.enrollment_id):
                    return  # its earlier step must be committed first: prepared in turn
                assumed = self.anticipated
                try:
                    found = self._prepare(
                        following, batch, evidence.get(following.prospect_id), assumed
                    )
                except Exception as exc:
                    ahead = (following.id, exc, assumed)
                else:
                    ahead = (following.id, found, assumed)

            self._act(transport, prepared, prepare_following)

    def _prepare(
        self,
        row: Row[Any],
        batch: facts.BatchFacts,
        evidence: Any,
        mailbox_facts: MailboxFacts | None = None,
    ) -> Prepared | None:
        assert self.sending is not None and self.mailbox_facts is not None
        if row.step > 1 and self.commits.holds(row.enrollment_id):
            self.commits.commit()  # the gate must see the step before as sent
        steps = self._steps(row.sequence_id)
        return prepare(
            row,
            batch,
            evidence,
            steps,
            mailbox_facts or self.mailbox_facts,
            self.sending,
            self.clock(),
        )

    def _act(
        self, transport: MailTransport, prepared: Prepared, ahead: Callable[[bool], None]
    ) -> None:
        decision, row = prepared.decision, prepared.row
        if decision.verdict is Verdict.SEND:
            self._send(transport, prepared, ahead)
        elif decision.verdict is Verdict.DEFER:
            self._defer(row, decision)
        elif decision.verdict is Verdict.CANCEL:
            self._cancel(row, decision, prepared.now)
        else:
            self._block(row, decision)

    def _send(
        self, transport: MailTransport, prepared: Prepared, ahead: Callable[[bool], None]
    ) -> None:
        assert self.sender is not None
        row, message, now = prepared.row, prepared.message, prepared.now
        slot, sent = prepared.slot, prepared.sent
        assert message is not None and slot is not None and sent is not None
        attempts = row.attempts + 1
        check = outbox.SendingCheck(
            touch_id=row.id,
            enrollment_id=row.enrollment_id,
            prospect_id=row.prospect_id,
            watch_from=row.watch_from,
            stop_all_on_reply=bool(row.stop_all_on_reply),
            email=row.email,
            domain=facts.email_domain(row.email),
        )
        started = taken = reached_data = False
        assert self.mailbox_facts is not None
        anticipated = self.anticipated = self.mailbox_facts.after_send(now)

        def during_mail() -> None:
            nonlocal started
            self.commits.take(
                lambda record: outbox.begin_sending(
                    check,
                    self.holder,
                    now,
                    attempts=attempts,
                    slot=slot,
                    subject=message.subject,
                    body=message.body,
                    lease=self.settings.lease,
                    record=record,
                )
            )
            started = True  # the helper thread runs it while the server answers

        def before_data() -> None:
            nonlocal started, taken
            started = False
            problem = self.commits.taken()
            if problem is not None:
                raise _NotSending(problem)
            taken = True

        def before_body() -> None:
            nonlocal reached_data
            self.commits.wait()  # `sending` is on disk: the body may go
            reached_data = True
            self.mailbox_facts = anticipated  # the slot taken in the database, here too
            faults.reached("after-sending")

        try:
            outcome = transport.send(
                message.raw,
                row.email,
                self.sender.email,
                during_mail=during_mail,
                before_data=before_data,
                before_body=before_body,
                during_envelope=lambda: ahead(True),
                during_reply=lambda: ahead(False),
            )
            if started:  # the server refused before DATA: was the touch taken?
                before_data()
        except _NotSending as exc:
            # The mailbox's slot went to another sender first, or the touch was
            # cancelled, its enrollment stopped or a reply arrived since it was
            # checked: nothing was taken (rolled back) and the transport reset
            # the transaction before DATA. Give it back (if still ours); the
            # next pass decides again.
            outbox.release([row.id], self.holder)
            self.commits.commit()
            self.passed_over.add(row.id)
            self.stopped = self.stopped or exc.problem == "mailbox"
            return
        finally:
            self.commits.wait()  # the helper thread gives the connection back
        if outcome.sent:
            faults.reached("after-accepted")
            self.commits.accept(sent, outcome.summary(), self.clock())
            self.counts["sent"] += 1
            return
        if taken and not reached_data:
            # Refused (or cut off) before DATA: the server never had the message,
            # so it does not count towards the day's cap.
            fast_path.give_back_slot(mailbox_id=slot.mailbox_id, day_start=slot.day_start)
        applied = apply_outcome(
            row, outcome, holder=self.holder, attempts=attempts, now=self.clock(), sent=sent
        )
        self.commits.commit()
        self.counts[applied.count] += 1
        if applied.pause_reason is not None:
            self._pause(applied.pause_reason, count=False)
        self.stopped = self.stopped or applied.stop_mailbox

    def _pause(self, reason: str, *, count: bool = True) -> None:
        mailbox = db.session.get(Mailbox, self.mailbox_id)
        if mailbox is not None:
            mailbox.paused = True
            mailbox.paused_reason = reason[:1000]
            self.commits.commit()
        if count:
            self.counts["mailboxes_paused"] += 1
        self.stopped = True

    def _defer(self, row: Row[Any], decision: Decision) -> None:
        assert decision.until is not None
        until = decision.until.astimezone(UTC)
        outbox.defer(
            row.id, self.holder, until, f"{decision.detail}; next try {until:%Y-%m-%d %H:%M} UTC"
        )
        self.commits.commit()
        self.counts["deferred"] += 1
        self.stopped = self.stopped or decision.holds_mailbox

    def _cancel(self, row: Row[Any], decision: Decision, now: datetime) -> None:
        outbox.finish(row.id, self.holder, TouchState.CANCELLED, decision.detail, claimed_by=None)
        stop = _STOP_FOR.get(decision.reason) if decision.reason else None
        enrollment = db.session.get(Enrollment, row.enrollment_id) if stop else None
        if stop is not None and enrollment is not None:
            stop_enrollment(enrollment, stop, now=now)
        self.commits.commit()
        self.counts["cancelled"] += 1

    def _block(self, row: Row[Any], decision: Decision) -> None:
        outbox.release([row.id], self.holder, note=f"blocked: {decision.detail}")
        self.commits.commit()
        self.passed_over.add(row.id)
        self.counts["blocked"] += 1
        self.stopped = self.stopped or decision.holds_mailbox
