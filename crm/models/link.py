"""Won links: a link a prospect placed for us, with its anchor and its verified state."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from crm.models.campaign import Campaign, TargetPage
    from crm.models.inbound import InboundMessage
    from crm.models.prospect import Prospect
    from crm.models.user import User


class AnchorType(enum.StrEnum):
    """DESIGN §3: what the anchor text says about the link."""

    EXACT = "exact"
    PARTIAL = "partial"
    BRANDED = "branded"
    NAKED = "naked"
    GENERIC = "generic"
    IMAGE = "image"

    @property
    def label(self) -> str:
        return "naked URL" if self is AnchorType.NAKED else self.value


class LinkRel(enum.StrEnum):
    DOFOLLOW = "dofollow"
    NOFOLLOW = "nofollow"
    SPONSORED = "sponsored"
    UGC = "ugc"


class LinkState(enum.StrEnum):
    """What the last checks found: never called lost on a blocked check."""

    UNCHECKED = "unchecked"
    LIVE = "live"
    INCONCLUSIVE = "inconclusive"
    LOST = "lost"


class WonLink(db.Model):  # type: ignore[name-defined]
    __tablename__ = "won_links"
    __table_args__ = (
        UniqueConstraint("campaign_id", "source_url", "target_url"),
        Index("ix_won_links_campaign_placed", "campaign_id", "placed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    prospect_id: Mapped[int] = mapped_column(
        ForeignKey("prospects.id", ondelete="CASCADE"), index=True
    )
    # The page on the prospect's domain that carries the link, and where it points.
    source_url: Mapped[str] = mapped_column(String(2048))
    target_url: Mapped[str] = mapped_column(String(2048))
    target_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("target_pages.id", ondelete="SET NULL")
    )
    anchor: Mapped[str] = mapped_column(Text, default="")
    anchor_type: Mapped[AnchorType] = mapped_column(str_enum(AnchorType))
    rel: Mapped[LinkRel] = mapped_column(str_enum(LinkRel), default=LinkRel.DOFOLLOW)
    placed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The reply the link was won from, when it was logged from the inbox.
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    state: Mapped[LinkState] = mapped_column(str_enum(LinkState), default=LinkState.UNCHECKED)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    prospect: Mapped[Prospect] = relationship()
    target_page: Mapped[TargetPage | None] = relationship()
    logged_by: Mapped[User | None] = relationship()
    inbound_message: Mapped[InboundMessage | None] = relationship()
