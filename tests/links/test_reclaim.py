"""The thread a reclamation follow-up answers, and what it says."""

from __future__ import annotations

from typing import Any

from crm.extensions import db
from crm.links.reclaim import reclamation_text, reclamation_thread
from crm.links.service import LinkInput, log_won_link
from crm.models import InboundKind, InboundMessage, Mailbox, TouchState
from tests.links.helpers import NOW, make_link_world


def _send_first(world: Any) -> Any:
    (enrollment,) = world.enrollments()
    first = enrollment.touches[0]
    first.state, first.sent_at, first.subject = TouchState.SENT, NOW, "Your Gantt list"
    db.session.commit()
    return enrollment, first


def test_the_follow_up_answers_the_reply_the_link_was_logged_from(db: Any) -> None:
    world = make_link_world()
    enrollment, first = _send_first(world)
    mailbox = db.session.query(Mailbox).first()
    reply = InboundMessage(
        mailbox_id=mailbox.id, message_id="<r1@blog.example>", kind=InboundKind.HUMAN_REPLY,
        from_address="editor@blog.example", prospect_id=world.prospect.id,
        enrollment_id=enrollment.id, matched_touch_id=first.id,
    )  # fmt: skip
    db.session.add(reply)
    db.session.flush()
    link = log_won_link(world.prospect, LinkInput("https://blog.example/p", world.target_url,
                                                  "gantt chart template"),
                        actor=None, message=reply, now=NOW)  # fmt: skip
    thread = reclamation_thread(link)
    assert thread is not None and thread.contact.email == "editor@blog.example"
    assert thread.subject == "Re: Your Gantt list"
    assert thread.in_reply_to == "<r1@blog.example>"
    assert thread.references == [first.message_id, "<r1@blog.example>"]
    subject, body = reclamation_text(link, thread, "Ana")
    assert subject == "Re: Your Gantt list" and "https://blog.example/p" in body


def test_without_a_reply_the_last_thread_we_sent_is_used_and_none_without_one(db: Any) -> None:
    world = make_link_world()
    logged = LinkInput("https://blog.example/p", world.target_url, "gantt chart template")
    link = log_won_link(world.prospect, logged, actor=None, now=NOW)
    assert reclamation_thread(link) is None  # nothing was ever sent
    _, first = _send_first(world)
    thread = reclamation_thread(link)
    assert thread is not None and thread.in_reply_to == first.message_id
