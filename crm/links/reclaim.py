"""Winning a lost link back: who to write to, on which thread, and what to say.

The follow-up goes to the contact who placed the link, as a reply on the
original thread: the reply the link was logged from when there is one,
otherwise the thread of the prospect's enrollment that got a reply (or, last,
the most recent one we sent). It carries the thread's `In-Reply-To` and
`References` and "Re:" the first subject, like any follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from crm.extensions import db
from crm.models import Contact, Enrollment, InboundMessage, Touch, TouchState, WonLink

RECLAIM_BODY = """Hi {name},

Thank you again for linking to {target} from {source}.

It looks like the link is no longer on the page — perhaps it went in an update.
Would you mind adding it back? Happy to send a new line of text if that helps.

Thanks,
{sender}
"""


@dataclass(frozen=True)
class Thread:
    """The original conversation a reclamation follow-up answers."""

    contact: Contact
    enrollment: Enrollment
    subject: str  # "Re: " + the first subject
    in_reply_to: str
    references: list[str]


def _re(subject: str) -> str:
    text = (subject or "").strip()
    return text if text.lower().startswith("re:") else f"Re: {text}".strip()


def _sent(enrollment: Enrollment) -> list[Touch]:
    return [t for t in enrollment.touches if t.state == TouchState.SENT and t.sent_at is not None]


def _thread_of(enrollment: Enrollment, reply: InboundMessage | None) -> Thread | None:
    sent = sorted(_sent(enrollment), key=lambda t: t.step)
    if not sent:
        return None
    references = [t.message_id for t in sent]
    last = sent[-1].message_id
    if reply is not None:
        references.append(reply.message_id)
        last = reply.message_id
    return Thread(
        contact=enrollment.contact, enrollment=enrollment, subject=_re(sent[0].subject or ""),
        in_reply_to=last, references=references,
    )  # fmt: skip


def reclamation_thread(link: WonLink) -> Thread | None:
    """The thread to write on, or None when we never emailed this prospect."""
    reply = link.inbound_message
    if reply is not None and reply.enrollment is not None:
        found = _thread_of(reply.enrollment, reply)
        if found is not None:
            return found
    replies = db.session.scalars(
        select(InboundMessage)
        .where(InboundMessage.prospect_id == link.prospect_id,
               InboundMessage.enrollment_id.is_not(None))
        .order_by(InboundMessage.received_at.desc())
    ).all()  # fmt: skip
    for message in replies:
        found = _thread_of(message.enrollment, message)
        if found is not None:
            return found
    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.prospect_id == link.prospect_id)
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
    ).all()
    for enrollment in enrollments:
        found = _thread_of(enrollment, None)
        if found is not None:
            return found
    return None


def reclamation_text(link: WonLink, thread: Thread, sender_name: str) -> tuple[str, str]:
    """The follow-up's subject and plain-text body."""
    body = RECLAIM_BODY.format(
        name=thread.contact.first_name or "there", target=link.target_url,
        source=link.source_url, sender=sender_name or "",
    )  # fmt: skip
    return thread.subject, body
