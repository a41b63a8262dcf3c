"""Replying from the app (issue 15): the reply box of a message, our replies on its thread, and
our one-off messages in a prospect's conversation. Sending is the outbox's
(`crm.outreach.one_offs`): queued here, sent at most once by the send pass."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from crm.extensions import db
from crm.models import InboundKind, InboundMessage, OneOffMessage, Prospect

MAX_REPLY_CHARS = 20_000
_SHOWN = 50  # replies listed under one message, or one-offs in a conversation


class ReplyForm(FlaskForm):
    """The body of a reply; the subject, recipient and thread come from the message."""

    body = TextAreaField(
        "Your reply",
        validators=[
            DataRequired(message="Write the reply first."),
            Length(
                max=MAX_REPLY_CHARS, message=f"Keep the reply under {MAX_REPLY_CHARS} characters."
            ),
        ],
        render_kw={"rows": 6},
    )


def can_reply(message: InboundMessage) -> bool:
    """A person's reply can be answered; bounces, auto-replies and unsubscribes cannot."""
    return message.kind == InboundKind.HUMAN_REPLY and bool(message.from_address)


def our_replies(message: InboundMessage) -> list[OneOffMessage]:
    """Our replies on this message's thread, oldest first."""
    return list(
        db.session.scalars(
            select(OneOffMessage)
            .where(OneOffMessage.in_reply_to == message.message_id)
            .order_by(OneOffMessage.created_at, OneOffMessage.id)
            .limit(_SHOWN)
        )
    )


def reply_context(message: InboundMessage, form: ReplyForm | None = None) -> dict[str, Any]:
    """What the message page shows about replying to it."""
    allowed = can_reply(message)
    return {
        "can_reply": allowed,
        "reply_form": (form or ReplyForm(formdata=None)) if allowed else None,
        "our_replies": our_replies(message),
    }


def conversation_one_offs(prospect: Prospect) -> list[dict[str, Any]]:
    """Our one-off messages to a prospect as conversation entries (queued ones too)."""
    rows = db.session.scalars(
        select(OneOffMessage)
        .where(OneOffMessage.prospect_id == prospect.id)
        .order_by(OneOffMessage.created_at.desc(), OneOffMessage.id.desc())
        .limit(_SHOWN)
    ).all()
    return [{"at": m.sent_at or m.created_at, "one_off": m} for m in rows]
