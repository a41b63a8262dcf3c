"""Sites, campaigns, their members, competitors and target pages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow
from crm.models.user import User

campaign_members = Table(
    "campaign_members",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Site(db.Model):  # type: ignore[name-defined]
    """A domain we build links for."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(db.Model):  # type: ignore[name-defined]
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    archived: Mapped[bool] = mapped_column(default=False)
    # Gap: a domain is in the gap when it links to at least this many competitors.
    min_overlap: Mapped[int] = mapped_column(default=1)
    # Re-import reminder: a snapshot older than this many days is stale.
    rerun_cadence_days: Mapped[int] = mapped_column(default=90)
    # A human reply stops the prospect's other active enrollments too.
    stop_all_on_reply: Mapped[bool] = mapped_column(default=True)
    # Area settings that have no column yet (scoring weights, filters...).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    site: Mapped[Site] = relationship(lazy="joined")
    members: Mapped[list[User]] = relationship(secondary=campaign_members, lazy="selectin")
    competitors: Mapped[list[Competitor]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="Competitor.domain",
        lazy="selectin",
    )
    target_pages: Mapped[list[TargetPage]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="TargetPage.id"
    )

    @property
    def competitor_domains(self) -> list[str]:
        return [c.domain for c in self.competitors]

    def is_member(self, user: User) -> bool:
        return any(m.id == user.id for m in self.members)


class Competitor(db.Model):  # type: ignore[name-defined]
    __tablename__ = "competitors"
    __table_args__ = (UniqueConstraint("campaign_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))

    campaign: Mapped[Campaign] = relationship(back_populates="competitors")


class TargetCategory(enum.StrEnum):
    GUIDE = "guide"
    LIST = "list"
    TOOL = "tool"
    DATA = "data"
    COMPARISON = "comparison"
    OTHER = "other"


class TargetPage(db.Model):  # type: ignore[name-defined]
    """A URL on our site that prospects are pitched to link to."""

    __tablename__ = "target_pages"
    __table_args__ = (UniqueConstraint("campaign_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[TargetCategory] = mapped_column(
        str_enum(TargetCategory), default=TargetCategory.OTHER
    )
    # Topic keywords, comma separated, lower-case.
    topics: Mapped[str] = mapped_column(Text, default="")
    # What this page adds, in one sentence: the `target.pitch` merge field.
    pitch: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="target_pages")

    @property
    def topic_list(self) -> list[str]:
        return [t.strip() for t in self.topics.split(",") if t.strip()]
