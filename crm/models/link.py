"""Won links: a link a prospect placed for us, with its anchor and its verified state."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from crm.models.campaign import Campaign, TargetPage
    from crm.models.contact import Contact
    from crm.models.inbound import InboundMessage
    from crm.models.outreach import OneOffMessage
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
    # Conclusive checks in a row that did not find the link (404/410, or the page
    # without it); the link is lost when this reaches the campaign's threshold.
    consecutive_misses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last check that found the link saw another rel / anchor than was logged.
    rel_mismatch: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    anchor_mismatch: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # What the last check found, in one line ("found, rel nofollow", "HTTP 403: blocked").
    last_check_summary: Mapped[str] = mapped_column(Text, default="", server_default="")

    campaign: Mapped[Campaign] = relationship()
    prospect: Mapped[Prospect] = relationship()
    target_page: Mapped[TargetPage | None] = relationship()
    logged_by: Mapped[User | None] = relationship()
    inbound_message: Mapped[InboundMessage | None] = relationship()


class CheckResult(enum.StrEnum):
    """What one check concluded about the link."""

    FOUND = "found"  # the page links to the target
    MISSING = "missing"  # the page answered and has no link to the target
    GONE = "gone"  # 404 or 410
    INCONCLUSIVE = "inconclusive"  # blocked, failed, or not a page we can read


class LinkCheck(db.Model):  # type: ignore[name-defined]
    """One fetch of a won link's source page and what it showed: the check history."""

    __tablename__ = "link_checks"
    __table_args__ = (Index("ix_link_checks_link_at", "won_link_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    won_link_id: Mapped[int] = mapped_column(ForeignKey("won_links.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    result: Mapped[CheckResult] = mapped_column(str_enum(CheckResult))
    # Why, in one line ("link found", "HTTP 403", "timed out after 10 s").
    reason: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str] = mapped_column(String(2048), default="")
    # Every hop of the fetch: [{"url", "status", "location"}].
    hops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    via_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    actual_anchor: Mapped[str | None] = mapped_column(Text)
    # The rel the link really has: its own rel tokens, plus the page's robots rules.
    actual_rel: Mapped[str | None] = mapped_column(String(24))
    rel_detail: Mapped[str] = mapped_column(Text, default="")
    # "noindex, nofollow" from <meta name="robots"> and X-Robots-Tag, when present.
    robots: Mapped[str] = mapped_column(String(200), default="")
    rel_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    anchor_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    # The page as received (zlib), kept as evidence and shown as text only.
    html_zlib: Mapped[bytes | None] = mapped_column(LargeBinary)
    html_bytes: Mapped[int] = mapped_column(Integer, default=0)
    charset: Mapped[str] = mapped_column(String(40), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    state_after: Mapped[LinkState] = mapped_column(str_enum(LinkState))

    won_link: Mapped[WonLink] = relationship()


class ReclamationState(enum.StrEnum):
    OPEN = "open"  # the link is lost; nobody has written yet
    SENT = "sent"  # the reclamation follow-up is queued or sent
    RESOLVED = "resolved"  # the link is back
    DISMISSED = "dismissed"  # a person decided to let it go


class ReclamationTask(db.Model):  # type: ignore[name-defined]
    """Work created by a lost link: win it back on the original thread."""

    __tablename__ = "reclamation_tasks"
    __table_args__ = (Index("ix_reclamation_campaign_state", "campaign_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    prospect_id: Mapped[int] = mapped_column(
        ForeignKey("prospects.id", ondelete="CASCADE"), index=True
    )
    won_link_id: Mapped[int] = mapped_column(
        ForeignKey("won_links.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[ReclamationState] = mapped_column(
        str_enum(ReclamationState), default=ReclamationState.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who the follow-up goes to, and the one-off message that carries it (at most one).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    one_off_id: Mapped[int | None] = mapped_column(
        ForeignKey("one_off_messages.id", ondelete="SET NULL"), unique=True
    )
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")

    won_link: Mapped[WonLink] = relationship()
    prospect: Mapped[Prospect] = relationship()
    contact: Mapped[Contact | None] = relationship()
    one_off: Mapped[OneOffMessage | None] = relationship()
    started_by: Mapped[User | None] = relationship()


class UnlinkedMention(db.Model):  # type: ignore[name-defined]
    """A prospect's page that mentions our brand or site without linking to it."""

    __tablename__ = "unlinked_mentions"
    __table_args__ = (UniqueConstraint("prospect_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # True: mentions us and does not link; False: no mention, or it already links.
    unlinked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sentence that mentions us, kept as the prospect's evidence.
    sentence: Mapped[str] = mapped_column(Text, default="")
    # What was found, or why the page could not be read.
    detail: Mapped[str] = mapped_column(Text, default="")

    prospect: Mapped[Prospect] = relationship()
