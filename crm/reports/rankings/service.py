"""Store a ranking export for a campaign: all of its rows, or nothing (one flush)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import insert

from crm.extensions import db
from crm.models import Campaign, RankImport, RankObservation, RankSource, User
from crm.reports.rankings.parse import read_rank_file

BATCH = 5_000


def import_rankings(
    campaign: Campaign, path: str | Path, as_of: date, *, filename: str, actor: User | None
) -> RankImport:
    """Read the file (an ExportError leaves the database as it was), then store its rows."""
    found = read_rank_file(path, as_of, filename)
    record = RankImport(
        campaign_id=campaign.id, source=RankSource(found.source), as_of=as_of,
        filename=filename[:255], rows=len(found.observations),
        created_by_id=actor.id if actor is not None else None,
    )  # fmt: skip
    db.session.add(record)
    db.session.flush()
    rows = [
        {
            "import_id": record.id,
            "campaign_id": campaign.id,
            "url": o.url,
            "url_key": o.url_key,
            "observed_on": o.observed_on,
            "keyword": o.keyword,
            "position": o.position,
            "clicks": o.clicks,
            "impressions": o.impressions,
        }
        for o in found.observations
    ]
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(RankObservation), rows[start : start + BATCH])
    return record
