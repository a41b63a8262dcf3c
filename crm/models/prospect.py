"""Prospects (a referring domain in a campaign) and their timeline."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from crm.models.campaign import Campaign, TargetPage
    from crm.models.contact import Contact
    from crm.models.user import User


class ProspectStatus(enum.StrEnum):
    """The deal stages: new -> qualified -> contacted -> replied -> negotiating -> won / lost /
    not a fit, plus excluded (hidden from the gap before outreach)."""

    NEW = "new"
    QUALIFIED = "qualified"
    EXCLUDED = "excluded"
    CONTACTED = "contacted"
    REPLIED = "replied"
    NEGOTIATING = "negotiating"
    WON = "won"
    LOST = "lost"
    NOT_A_FIT = "not_a_fit"
    # Older names of the same stages (0012_deal_stages renamed the stored values).
    IN_SEQUENCE = "contacted"
    DECLINED = "lost"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Bits of Prospect.category_bits, in the order DESIGN §4 names the categories.
CATEGORY_BITS = {"best": 1, "strong": 2, "weak": 4, "shared": 8, "unique": 16}


def categories_of(bits: int) -> list[str]:
    return [name for name, bit in CATEGORY_BITS.items() if bits & bit]


def category_bits_of(names: list[str] | set[str] | tuple[str, ...]) -> int:
    return sum(CATEGORY_BITS[n] for n in set(names))


class Prospect(db.Model):  # type: ignore[name-defined]
    __tablename__ = "prospects"
    __table_args__ = (
        UniqueConstraint("campaign_id", "domain"),
        Index("ix_prospects_campaign_status", "campaign_id", "status"),
        Index("ix_prospects_campaign_gap_score", "campaign_id", "in_gap", "score"),
        Index("ix_prospects_campaign_authority", "campaign_id", "authority"),
        Index("ix_prospects_campaign_tier", "campaign_id", "tier"),
        # Every column the gap table filters on, so counting a filtered view of
        # 100,000 prospects reads this index and never the wide rows.
        Index(
            "ix_prospects_gap_filters",
            "campaign_id",
            "in_gap",
            "tier",
            "authority",
            "dofollow",
            "excluded_by",
            "overlap",
            "category_bits",
            "status",
            "link_type",
            "traffic",
            "domain",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # Registrable domain (DESIGN §4), Unicode form, lower-case.
    domain: Mapped[str] = mapped_column(String(253), index=True)
    status: Mapped[ProspectStatus] = mapped_column(
        str_enum(ProspectStatus), default=ProspectStatus.NEW
    )
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Where the prospect came from: an import, "manual", or a list's label.
    source: Mapped[str] = mapped_column(String(120), default="manual")
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    target_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("target_pages.id", ondelete="SET NULL")
    )
    # Slug of the outreach angle (angles.slug).
    angle: Mapped[str | None] = mapped_column(String(80))
    target_confirmed: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    # Gap facts of the newest snapshot, denormalised so the gap table can filter
    # and sort 100,000 prospects in SQL (DESIGN §4).
    in_gap: Mapped[bool] = mapped_column(default=False)
    links_to_us: Mapped[bool] = mapped_column(default=False)
    overlap: Mapped[int] = mapped_column(default=0)
    tier: Mapped[int | None] = mapped_column()
    # Bits of crm.gap.compute categories: best, strong, weak, shared, unique.
    category_bits: Mapped[int] = mapped_column(default=0)
    competitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    backlinks: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    authority: Mapped[float | None] = mapped_column()
    traffic: Mapped[int | None] = mapped_column()
    dofollow: Mapped[bool | None] = mapped_column()
    spam: Mapped[bool | None] = mapped_column()
    language: Mapped[str | None] = mapped_column(String(16))
    link_type: Mapped[str | None] = mapped_column(String(40))
    link_type_manual: Mapped[bool] = mapped_column(default=False)
    broken_link: Mapped[bool] = mapped_column(default=False)
    # Scoring (0-1 each) with one-line explanations, and the weighted total.
    score: Mapped[float] = mapped_column(default=0.0)
    score_parts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    relevance_override: Mapped[int | None] = mapped_column()
    # Why the prospect is hidden: a rule code (filter or exclusion) or "unwinnable".
    excluded_by: Mapped[str | None] = mapped_column(String(60))
    excluded_note: Mapped[str] = mapped_column(Text, default="")
    # A hidden prospect restored by hand stays visible whatever the rules say.
    restored: Mapped[bool] = mapped_column(default=False)
    last_import_id: Mapped[int | None] = mapped_column(
        ForeignKey("gap_imports.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def categories(self) -> list[str]:
        return categories_of(self.category_bits)

    campaign: Mapped[Campaign] = relationship()
    assigned_to: Mapped[User | None] = relationship()
    target_page: Mapped[TargetPage | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="prospect", cascade="all, delete-orphan", order_by="Contact.id"
    )
    touchpoints: Mapped[list[Touchpoint]] = relationship(
        back_populates="prospect",
        cascade="all, delete-orphan",
        order_by="Touchpoint.at",
    )


class TouchpointKind(enum.StrEnum):
    SENT = "sent"
    REPLY = "reply"
    BOUNCE = "bounce"
    NOTE = "note"
    STATUS_CHANGE = "status_change"
    LINK_WON = "link_won"
    LINK_LOST = "link_lost"
    IMPORTED = "imported"


class Touchpoint(db.Model):  # type: ignore[name-defined]
    """One entry of a prospect's timeline."""

    __tablename__ = "touchpoints"
    __table_args__ = (Index("ix_touchpoints_prospect_at", "prospect_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[TouchpointKind] = mapped_column(str_enum(TouchpointKind))
    summary: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # References to what the entry is about (touch id, inbound message id, won link id...).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    prospect: Mapped[Prospect] = relationship(back_populates="touchpoints")
    actor: Mapped[User | None] = relationship()
