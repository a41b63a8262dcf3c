"""Imports of SEO-tool exports, their snapshots, and the evidence behind prospects."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow


class ImportState(enum.StrEnum):
    PENDING = "pending"  # files stored and inspected, waiting to run
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class GapImport(db.Model):  # type: ignore[name-defined]
    """One import of one or more exports; a finished import is a snapshot of the campaign.

    Sites that the import's files do not cover are carried over from the previous
    snapshot, so a partial re-import still gives a complete picture.
    """

    __tablename__ = "gap_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[ImportState] = mapped_column(str_enum(ImportState), default=ImportState.PENDING)
    # Progress for the progress bar: bytes read of all files.
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)
    bytes_total: Mapped[int] = mapped_column(Integer, default=0)
    # When a running import last reported progress (a silent one was interrupted).
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One human line when the import failed (file, line, column).
    error: Mapped[str] = mapped_column(Text, default="")
    # Per file: {name, path, format, label, owner, sites, encoding, delimiter, rows, skipped}.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Sites the files covered, and those carried over from the previous snapshot.
    sites_covered: Mapped[list[str]] = mapped_column(JSON, default=list)
    sites_carried: Mapped[list[str]] = mapped_column(JSON, default=list)
    domain_count: Mapped[int] = mapped_column(Integer, default=0)
    gap_count: Mapped[int] = mapped_column(Integer, default=0)
    # The diff against the previous snapshot: counts plus a bounded sample of domains.
    diff: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Domains per overlap {"not_linking_to_us": {n: count}, "linking_to_us": {n: count}}.
    overlap_chart: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Linkable assets: per competitor, its pages ranked by the gap domains linking to them.
    assets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    campaign = relationship("Campaign")


class BulkChangeState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BulkChange(db.Model):  # type: ignore[name-defined]
    """A bulk action on more prospects than one short transaction changes, run a batch at a time.

    Each batch commits with its progress, so other people's writes never wait
    long; a change that stops part-way says how far it got.
    """

    __tablename__ = "bulk_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[BulkChangeState] = mapped_column(
        str_enum(BulkChangeState), default=BulkChangeState.RUNNING
    )
    # A bulk action of the gap table (qualify, exclude, assign, ...) and its choices
    # as the form sent them (reason, stage, assignee, target_id, angle, ...).
    action: Mapped[str] = mapped_column(String(40))
    choices: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The gap table's view the prospects were chosen by (its query arguments).
    view: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    # Prospects left alone, per reason ("already further in the pipeline": 12).
    skipped: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # When a running change last committed a batch (a silent one was interrupted).
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(Text, default="")

    campaign = relationship("Campaign")
    created_by = relationship("User")


class SnapshotDomain(db.Model):  # type: ignore[name-defined]
    """The facts of one referring domain in one snapshot (kept for the next diff)."""

    __tablename__ = "snapshot_domains"
    __table_args__ = (UniqueConstraint("import_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("gap_imports.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    # {site: backlinks} for every site the domain links to.
    sites: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    authority: Mapped[float | None] = mapped_column()
    traffic: Mapped[int | None] = mapped_column()
    dofollow: Mapped[bool | None] = mapped_column()
    spam: Mapped[bool | None] = mapped_column()


class Evidence(db.Model):  # type: ignore[name-defined]
    """A referring page that links to a site: why a prospect is a prospect."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_prospect_site", "prospect_id", "site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prospect_id: Mapped[int] = mapped_column(ForeignKey("prospects.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("gap_imports.id", ondelete="SET NULL"))
    site: Mapped[str] = mapped_column(String(253))
    page_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    target_url: Mapped[str | None] = mapped_column(Text)
    anchor: Mapped[str | None] = mapped_column(Text)
    rel: Mapped[str | None] = mapped_column(String(40))
    first_seen: Mapped[str | None] = mapped_column(String(10))  # ISO date
    last_seen: Mapped[str | None] = mapped_column(String(10))
    http_code: Mapped[int | None] = mapped_column()
    lost: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(16))
    page_type: Mapped[str | None] = mapped_column(String(120))
    page_category: Mapped[str | None] = mapped_column(String(200))


class ColumnMapping(db.Model):  # type: ignore[name-defined]
    """A saved mapping of a generic CSV's columns to our fields, for reuse."""

    __tablename__ = "column_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
