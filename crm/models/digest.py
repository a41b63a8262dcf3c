"""Managers who get the weekly report digest by email, and the mailbox it comes from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, utcnow
from crm.models.outreach import Mailbox
from crm.models.user import User


class DigestSubscription(db.Model):  # type: ignore[name-defined]
    """One manager's opt-in to the weekly digest (every campaign they may see)."""

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id", ondelete="SET NULL"))
    # Monday of the last week a digest was queued for (so each week is sent once).
    last_week: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    mailbox: Mapped[Mailbox | None] = relationship()
