"""Messages read from mailboxes, the IMAP cursors, and in-app notifications."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow


class MailboxFolder(db.Model):  # type: ignore[name-defined]
    """Where polling a mailbox's folder got to: UIDVALIDITY and the last UID stored."""

    __tablename__ = "mailbox_folders"
    __table_args__ = (UniqueConstraint("mailbox_id", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: past a signed INTEGER's range.
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")


class InboundKind(enum.StrEnum):
    HUMAN_REPLY = "human_reply"
    AUTO_REPLY = "auto_reply"
    OOO = "ooo"
    BOUNCE_HARD = "bounce_hard"
    BOUNCE_SOFT = "bounce_soft"
    UNSUBSCRIBE_REQUEST = "unsubscribe_request"
    UNRELATED = "unrelated"


# Groups of kinds, named once: what the inbox's tabs and the poll counts add up.
REPLY_KINDS = frozenset({InboundKind.HUMAN_REPLY, InboundKind.UNSUBSCRIBE_REQUEST})
AUTO_KINDS = frozenset({InboundKind.AUTO_REPLY, InboundKind.OOO})
BOUNCE_KINDS = frozenset({InboundKind.BOUNCE_HARD, InboundKind.BOUNCE_SOFT})


class ReplyOutcome(enum.StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class InboundMessage(db.Model):  # type: ignore[name-defined]
    """A message read from a mailbox, classified and (when possible) matched to a touch."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "message_id"),
        Index("ix_inbound_kind_received", "kind", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    uid: Mapped[int | None] = mapped_column(BigInteger)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(998))
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(254), default="", index=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    to_addresses: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    snippet: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[InboundKind] = mapped_column(str_enum(InboundKind))
    # Why it got its kind, for the UI ("Auto-Submitted: auto-replied").
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    bounce_recipient: Mapped[str | None] = mapped_column(String(254))
    bounce_status: Mapped[str | None] = mapped_column(String(20))
    return_date: Mapped[date | None] = mapped_column(Date)
    matched_touch_id: Mapped[int | None] = mapped_column(
        ForeignKey("touches.id", ondelete="SET NULL"), index=True
    )
    prospect_id: Mapped[int | None] = mapped_column(
        ForeignKey("prospects.id", ondelete="SET NULL"), index=True
    )
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL")
    )
    # in_reply_to, references, sender, domain, manual; empty when unmatched.
    match_method: Mapped[str] = mapped_column(String(20), default="")
    # How it was matched, for the UI ("In-Reply-To names our message <...>").
    match_detail: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[ReplyOutcome | None] = mapped_column(str_enum(ReplyOutcome))
    suggested_outcome: Mapped[ReplyOutcome | None] = mapped_column(str_enum(ReplyOutcome))
    suggestion_reason: Mapped[str] = mapped_column(Text, default="")
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effects_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What applying the effects did, one line each ("human reply: stop the sequence").
    effects: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set when someone decides an unmatched message needs nothing (it leaves triage).
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    matched_touch = relationship("Touch")
    prospect = relationship("Prospect")
    enrollment = relationship("Enrollment")
    mailbox = relationship("Mailbox")


class Notification(db.Model):  # type: ignore[name-defined]
    """Something a user should look at (a reply on a prospect assigned to them)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
