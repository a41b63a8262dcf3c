"""One-off messages: a reply to an inbound message, a reclamation follow-up, the weekly digest.

Each is queued as a OneOffMessage and sent by the send pass like a touch
(crm.outreach.sender): claimed, checked (suppression, the mailbox's pause,
cap and spacing), committed ``sending``, sent at most once, recorded in the
prospect's timeline. No sending window: a person wrote it to go now.
Services flush; the caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from crm.core.domains import email_domain
from crm.core.errors import UserError
from crm.core.suppression import listed_suppressions, suppress
from crm.extensions import db
from crm.mail.compose import (
    ComposeError,
    OutgoingEmail,
    compose_bytes,
    new_message_id,
    reply_subject,
    split_address,
)
from crm.mail.smtp import envelope_address
from crm.mail.unsubscribe import make_unsubscribe_token, unsubscribe_url
from crm.models import (
    InboundMessage,
    Mailbox,
    OneOffMessage,
    Prospect,
    ReclamationState,
    ReclamationTask,
    Touchpoint,
    TouchpointKind,
    TouchState,
    User,
)
from crm.outreach import outbox
from crm.outreach.gate import Decision, Reason, TouchFacts, Verdict, decide
from crm.outreach.outgoing import Message, Sender, zone
from crm.outreach.windows import SendingWindow, draw_jitter

if TYPE_CHECKING:
    from crm.outreach.sender import MailboxPass

log = logging.getLogger(__name__)
ANY_TIME = SendingWindow.parse("00:00-24:00", "mon,tue,wed,thu,fri,sat,sun")


def queue_one_off(
    *,
    mailbox: Mailbox,
    to_email: str,
    to_name: str | None,
    subject: str,
    body: str,
    prospect: Prospect | None,
    actor: User | None,
    now: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> OneOffMessage:
    """Queue one message from ``mailbox`` to go out with the next send pass; flush."""
    try:
        split_address(to_email)
        reply_subject(subject)  # refuses a line break in the subject
    except ComposeError as exc:
        raise UserError(str(exc)) from None
    if not subject.strip():
        raise UserError("the message needs a subject")
    thread = [r for r in references if r]
    if in_reply_to and (not thread or thread[-1] != in_reply_to):
        thread.append(in_reply_to)
    message = OneOffMessage(
        mailbox_id=mailbox.id,
        prospect_id=prospect.id if prospect is not None else None,
        to_email=to_email.strip(),
        to_name=(to_name or "").strip(),
        subject=subject.strip(),
        body=body,
        message_id=new_message_id(mailbox.domain),
        in_reply_to=in_reply_to or "",
        references=" ".join(thread),
        state=TouchState.SCHEDULED,
        due_at=now,
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(message)
    db.session.flush()
    return message


def reply_to_inbound(
    inbound: InboundMessage, body: str, actor: User | None, now: datetime
) -> OneOffMessage:
    """Queue a reply on an inbound message's thread, from the mailbox the thread went out from."""
    mailbox = inbound.enrollment.mailbox if inbound.enrollment is not None else inbound.mailbox
    if not inbound.from_address:
        raise UserError("this message has no sender address to reply to")
    prospect = db.session.get(Prospect, inbound.prospect_id) if inbound.prospect_id else None
    return queue_one_off(
        mailbox=mailbox,
        to_email=inbound.from_address,
        to_name=inbound.from_name,
        subject=reply_subject(inbound.subject or ""),
        body=body,
        prospect=prospect,
        actor=actor,
        now=now,
        in_reply_to=inbound.message_id,
        references=inbound.references.split(),
    )


def follow_up_on_thread(
    task: ReclamationTask, *, actor: User | None, now: datetime, body: str | None = None
) -> OneOffMessage:
    """Queue a lost link's reclamation follow-up on the original thread; record it on the task.

    ``body`` replaces the written text when the person edited it. The task moves
    from open to sent by a compare-and-set first, so two clicks (or two people)
    at once queue one message: the second finds the task taken and is refused.
    """
    from crm.links.reclaim import reclamation_text, reclamation_thread

    thread = reclamation_thread(task.won_link)
    if thread is None:
        raise UserError("we never emailed this prospect, so there is no thread to follow up on")
    taken = db.session.execute(
        update(ReclamationTask)
        .where(
            ReclamationTask.id == task.id,
            ReclamationTask.state == ReclamationState.OPEN,
            ReclamationTask.one_off_id.is_(None),
        )
        .values(state=ReclamationState.SENT, started_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise UserError("the follow-up for this link is already queued, or the task was closed")
    mailbox = thread.enrollment.mailbox
    subject, written = reclamation_text(task.won_link, thread, mailbox.from_name)
    if body is not None and not body.strip():
        raise UserError("the follow-up needs a message", field="body")
    body = written if body is None else body
    contact = thread.contact
    message = queue_one_off(
        mailbox=mailbox,
        to_email=contact.email,
        to_name=" ".join(n for n in (contact.first_name, contact.last_name) if n),
        subject=subject,
        body=body,
        prospect=task.prospect,
        actor=actor,
        now=now,
        in_reply_to=thread.in_reply_to,
        references=thread.references,
    )
    task.one_off_id = message.id
    task.contact_id = contact.id
    task.started_by_id = actor.id if actor is not None else None
    task.started_at = now
    task.state = ReclamationState.SENT
    db.session.flush()
    return message


# ---------------------------------------------------------------------------
# Sending a claimed one-off: its gate facts and message; MailboxPass.send does the rest


def send_one_off(mailbox_pass: MailboxPass, message_id: int) -> None:
    """Re-check a claimed one-off message with the gate and send it (MailboxPass.send)."""
    p = mailbox_pass
    now = p.clock()
    message = db.session.get(OneOffMessage, message_id)
    if message is None:
        return
    email = message.to_email
    try:
        suppressed = listed_suppressions([email])
        facts = TouchFacts(
            due_at=message.due_at,
            enrollment_state="active",
            watch_from=message.created_at,
            contact_tz=zone(p.timezone),
            address_suppressed=email in suppressed,
            domain_suppressed=email_domain(email) in suppressed,
        )
        # No sending window: a person wrote it to go now.
        jitter = draw_jitter(p.settings.max_jitter, p.rng)
        decision = decide(facts, replace(p.facts, window=ANY_TIME), now, jitter)
        built = _build(message, p.sender, now, p.settings.base_url, p.settings.secret)
    except Exception as exc:  # a message that cannot be built: this one only
        log.warning("one-off message %s blocked: %s", message_id, exc, exc_info=True)
        db.session.rollback()
        decision = Decision(Verdict.BLOCK, Reason.TEMPLATE, detail=str(exc))
    if decision.verdict is not Verdict.SEND:
        p.not_now(message_id, decision, OneOffMessage)
        return
    domain, lease = email_domain(email), p.settings.lease
    p.send(
        message_id,
        OneOffMessage,
        built,
        now,
        attempts=message.attempts + 1,
        begin=lambda slot: outbox.begin_one_off(
            message_id, email, domain, slot, p.holder, now, lease
        ),
        accepted=lambda reply, at: _mark_sent(message_id, p.holder, reply, at),
        bounced=lambda summary, at: suppress(email, f"hard bounce: {summary}"[:200]),
    )


def _build(
    message: OneOffMessage, sender: Sender, now: datetime, base_url: str, secret: str
) -> Message:
    """Build the one-off's bytes and envelope; raise ComposeError."""
    token = make_unsubscribe_token(secret, message.to_email, None)
    thread = message.references.split()
    raw = compose_bytes(
        OutgoingEmail(
            message_id=message.message_id,
            sender_address=sender.email,
            sender_name=sender.name or None,
            recipient_address=message.to_email,
            recipient_name=message.to_name or None,
            subject=message.subject,
            text=message.body,
            date=now,
            unsubscribe_url=unsubscribe_url(base_url, token),
            thread=thread,
        )
    )
    subject = reply_subject(message.subject) if thread else message.subject
    envelope = envelope_address(sender.email), envelope_address(message.to_email)
    return Message(subject, message.body, raw, *envelope)


def _mark_sent(message_id: int, holder: str, reply: str, at: datetime) -> None:
    """Record a held one-off the server accepted, on its prospect's timeline too."""
    done = outbox.finish(
        message_id, holder, TouchState.SENT, "", model=OneOffMessage, sent_at=at, smtp_reply=reply
    )
    message = db.session.get(OneOffMessage, message_id)
    if done and message is not None and message.prospect_id is not None:
        data: dict[str, Any] = {"one_off_id": message.id, "message_id": message.message_id}
        db.session.add(
            Touchpoint(
                prospect_id=message.prospect_id,
                kind=TouchpointKind.SENT,
                summary=f"Message sent to {message.to_email}: {message.subject}",
                actor_id=message.created_by_id,
                at=at,
                data=data,
            )
        )
