"""Contacts of prospects and the suppression list."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from crm.models.prospect import Prospect


class Contact(db.Model):  # type: ignore[name-defined]
    """A person at a prospect we may write to."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("prospect_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    first_name: Mapped[str] = mapped_column(String(80), default="")
    last_name: Mapped[str] = mapped_column(String(80), default="")
    role: Mapped[str] = mapped_column(String(120), default="")
    # IANA zone name; empty means "use the mailbox's".
    timezone: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(120), default="manual")
    # Set when a hard bounce proves the address dead.
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    prospect: Mapped[Prospect] = relationship(back_populates="contacts")

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class SuppressionKind(enum.StrEnum):
    ADDRESS = "address"
    DOMAIN = "domain"


class Suppression(db.Model):  # type: ignore[name-defined]
    """An address or a whole domain never to be emailed."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SuppressionKind] = mapped_column(str_enum(SuppressionKind))
    # Lower-case address, or registrable domain.
    value: Mapped[str] = mapped_column(String(254), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
