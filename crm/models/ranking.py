"""Ranking exports of target pages (Search Console Pages tables, rank tracker CSVs), dated."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow


class RankSource(enum.StrEnum):
    GSC = "gsc"
    TRACKER = "tracker"

    @property
    def label(self) -> str:
        return "Search Console" if self is RankSource.GSC else "rank tracker"


class RankImport(db.Model):  # type: ignore[name-defined]
    """One ranking file imported for a campaign, and the day it describes."""

    __tablename__ = "rank_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[RankSource] = mapped_column(str_enum(RankSource))
    as_of: Mapped[date] = mapped_column(Date)
    filename: Mapped[str] = mapped_column(String(255), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RankObservation(db.Model):  # type: ignore[name-defined]
    """A page's position (for a keyword, or overall) and its clicks on a day."""

    __tablename__ = "rank_observations"
    __table_args__ = (
        Index("ix_rank_observations_page_day", "campaign_id", "url_key", "observed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("rank_imports.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # The URL as the file wrote it, and folded (crm.reports.rankings.parse.url_key) to match.
    url: Mapped[str] = mapped_column(String(2048))
    url_key: Mapped[str] = mapped_column(String(2048))
    observed_on: Mapped[date] = mapped_column(Date)
    keyword: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[float | None] = mapped_column(Float)
    clicks: Mapped[int | None] = mapped_column(Integer)
    impressions: Mapped[int | None] = mapped_column(Integer)
