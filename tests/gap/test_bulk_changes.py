"""Bulk changes: a bulk action on many prospects runs a batch per transaction, says how far
it got, and keeps out of an import's way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.core.errors import UserError
from crm.extensions import db as database
from crm.gap.bulk_changes import (
    describe,
    run_bulk_change,
    running_bulk_change,
    start_bulk_change,
    summary,
)
from crm.gap.sample_exports import SampleDomain, ahrefs_refdomains_bytes, write
from crm.gap.service import SourceFile, add_sources, create_import, prepare_run
from crm.models import (
    AuditLog,
    BulkChange,
    BulkChangeState,
    GapImport,
    ImportState,
    Prospect,
    ProspectStatus,
    utcnow,
)
from tests.factories import ProspectFactory

pytestmark = pytest.mark.postgres


def _prospects(campaign: Any, n: int, **values: Any) -> list[int]:
    return [ProspectFactory(campaign=campaign, in_gap=True, **values).id for _ in range(n)]


def _all(stmt: Any) -> list[Any]:
    return list(database.session.scalars(stmt))


def _statuses(ids: list[int]) -> list[ProspectStatus]:
    return _all(select(Prospect.status).where(Prospect.id.in_(ids)).order_by(Prospect.id))


def test_a_bulk_change_applies_its_first_batch_at_once_and_the_rest_a_batch_per_commit(
    db: Any, team: dict[str, Any]
) -> None:
    campaign, actor = team["campaign"], team["specialist"]
    ids = _prospects(campaign, 7)
    change = start_bulk_change(campaign, "qualify", {}, {"tier": "1"}, ids, actor=actor, batch=3)
    db.session.commit()
    assert (change.done, change.total, change.state) == (3, 7, BulkChangeState.RUNNING)
    assert _statuses(ids).count(ProspectStatus.QUALIFIED) == 3
    assert describe(change) == "Qualifying 7 prospects"

    finished = run_bulk_change(change.id, ids[3:], batch=3)

    assert finished.state == BulkChangeState.DONE and finished.finished_at is not None
    assert (finished.done, finished.changed) == (7, 7)
    assert _statuses(ids) == [ProspectStatus.QUALIFIED] * 7
    assert summary(finished) == "7 prospects qualified."
    # Each committed batch carries its own audit entry: the log says what was changed
    # even when a change stops part-way.
    counts = _all(select(AuditLog.detail).where(AuditLog.action == "gap.qualify"))
    assert [d["count"] for d in counts] == [3, 3, 1]


def test_a_change_counts_the_prospects_it_left_alone_over_all_its_batches(
    db: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    ids = _prospects(campaign, 3) + _prospects(campaign, 2, status=ProspectStatus.WON)
    change = start_bulk_change(campaign, "exclude", {"reason": "off topic"}, {}, ids,
                               actor=team["specialist"], batch=2)  # fmt: skip
    db.session.commit()
    finished = run_bulk_change(change.id, ids[2:], batch=2)
    assert (finished.changed, finished.skipped) == (3, {"already further in the pipeline": 2})
    assert summary(finished) == (
        "3 prospects excluded; left alone: 2 already further in the pipeline."
    )


def test_a_change_stopped_part_way_keeps_its_committed_batches_and_says_how_far_it_got(
    db: Any, team: dict[str, Any]
) -> None:
    campaign, specialist = team["campaign"], team["specialist"]
    ids = _prospects(campaign, 5)
    choices = {"assignee": str(specialist.id)}
    change = start_bulk_change(campaign, "assign", choices, {}, ids, actor=specialist, batch=2)
    db.session.commit()
    specialist.active = False  # deactivated while the change runs
    db.session.commit()

    finished = run_bulk_change(change.id, ids[2:], batch=2)

    assert finished.state == BulkChangeState.FAILED
    assert finished.error == f"{specialist.email} is deactivated"
    assert finished.done == 2
    assigned = _all(select(Prospect.assigned_to_id).where(Prospect.id.in_(ids)))
    assert sorted(assigned, key=lambda v: v is None) == [specialist.id] * 2 + [None] * 3


def test_a_bad_choice_is_refused_before_any_prospect_changes(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    ids = _prospects(campaign, 5)
    db.session.commit()
    with pytest.raises(UserError, match="say why these prospects are excluded"):
        start_bulk_change(campaign, "exclude", {"reason": " "}, {}, ids,
                          actor=team["specialist"], batch=2)  # fmt: skip
    db.session.rollback()
    assert _statuses(ids) == [ProspectStatus.NEW] * 5
    assert db.session.scalar(select(func.count()).select_from(BulkChange)) == 0


def test_a_change_keeps_only_the_choices_of_its_action(db: Any, team: dict[str, Any]) -> None:
    campaign = team["campaign"]
    ids = _prospects(campaign, 3)
    form = {"reason": "", "stage": "won", "angle": "resource-replacement", "assignee": "",
            "target_id": str(team["target"].id), "unwinnable_reason": "news_coverage"}  # fmt: skip
    change = start_bulk_change(campaign, "set_angle", form, {}, ids,
                               actor=team["specialist"], batch=2)  # fmt: skip
    assert change.choices == {"angle": "resource-replacement"}


def test_one_bulk_change_runs_at_a_time_in_a_campaign(db: Any, team: dict[str, Any]) -> None:
    campaign, actor = team["campaign"], team["specialist"]
    ids = _prospects(campaign, 5)
    start_bulk_change(campaign, "qualify", {}, {}, ids, actor=actor, batch=2)
    db.session.commit()
    with pytest.raises(UserError, match=r"another bulk change .* running \(2 of 5 prospects"):
        start_bulk_change(campaign, "restore", {}, {}, ids, actor=actor, batch=2)


def test_an_interrupted_change_no_longer_holds_the_campaign(db: Any, team: dict[str, Any]) -> None:
    campaign, actor = team["campaign"], team["specialist"]
    ids = _prospects(campaign, 5)
    change = start_bulk_change(campaign, "qualify", {}, {}, ids, actor=actor, batch=2)
    db.session.commit()
    assert running_bulk_change(campaign) == change
    later = utcnow() + timedelta(minutes=3)
    assert running_bulk_change(campaign, later) is None


def test_an_import_waits_for_a_running_bulk_change_and_a_change_for_a_running_import(
    db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    campaign, actor = team["campaign"], team["specialist"]
    ids = _prospects(campaign, 5)
    change = start_bulk_change(campaign, "qualify", {}, {}, ids, actor=actor, batch=2)
    export = ahrefs_refdomains_bytes([SampleDomain("blog.example.com", authority=40)])
    path = write(tmp_path / "rival-a.com-refdomains.csv", export)
    gap_import = create_import(campaign)
    add_sources(gap_import, [SourceFile(str(path), path.name)])
    db.session.commit()
    with pytest.raises(UserError, match="a bulk change of this campaign's prospects is running"):
        prepare_run(gap_import)

    change.state = BulkChangeState.DONE
    db.session.add(GapImport(campaign_id=campaign.id, state=ImportState.RUNNING))
    db.session.commit()
    with pytest.raises(UserError, match="an import of this campaign is running"):
        start_bulk_change(campaign, "qualify", {}, {}, ids, actor=actor, batch=2)
