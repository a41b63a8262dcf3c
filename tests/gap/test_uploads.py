"""Uploaded files are kept while their import may need them, then removed."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from crm.gap.uploads import (
    MAX_NAME,
    imports_folder,
    job_remove_old_uploads,
    remove_old_uploads,
    store_uploads,
)
from crm.jobs import JOBS
from crm.models import GapImport, ImportState, utcnow

pytestmark = pytest.mark.postgres


def _import_with_files(db: Any, campaign: Any, state: ImportState, finished_days_ago: int | None):
    now = utcnow()
    finished = now - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    gap_import = GapImport(campaign_id=campaign.id, files=[], state=state, finished_at=finished)
    db.session.add(gap_import)
    db.session.flush()
    folder = imports_folder(gap_import.id)
    folder.mkdir(parents=True)
    (folder / "01-rival.csv").write_text("Source url\n")
    return gap_import


def test_files_of_imports_finished_longer_ago_than_the_setting_are_removed(
    db: Any, team: dict[str, Any]
) -> None:
    campaign = team["campaign"]
    old_done = _import_with_files(db, campaign, ImportState.DONE, 31)
    old_failed = _import_with_files(db, campaign, ImportState.FAILED, 40)
    recent = _import_with_files(db, campaign, ImportState.DONE, 29)
    pending = _import_with_files(db, campaign, ImportState.PENDING, None)
    running = _import_with_files(db, campaign, ImportState.RUNNING, None)
    db.session.commit()

    assert remove_old_uploads(utcnow(), 30) == 2

    assert not imports_folder(old_done.id).exists()
    assert not imports_folder(old_failed.id).exists()
    for kept in (recent, pending, running):
        assert (imports_folder(kept.id) / "01-rival.csv").exists()


def test_a_folder_whose_import_was_rolled_back_goes_once_it_is_old(
    db: Any, team: dict[str, Any]
) -> None:
    orphan, fresh = imports_folder(9001), imports_folder(9002)
    for folder in (orphan, fresh):
        folder.mkdir(parents=True)
    month_ago = (utcnow() - timedelta(days=31)).timestamp()
    os.utime(orphan, (month_ago, month_ago))

    assert remove_old_uploads(utcnow(), 30) == 1
    assert not orphan.exists() and fresh.exists()


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "GAP_UPLOADS_KEEP_DAYS": 3}


def test_the_worker_job_keeps_files_the_configured_number_of_days(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    assert "crm.gap.uploads:job_remove_old_uploads" in {job.target for job in JOBS}
    gone = _import_with_files(db, team["campaign"], ImportState.DONE, 4)
    kept = _import_with_files(db, team["campaign"], ImportState.DONE, 2)
    db.session.commit()

    assert job_remove_old_uploads() == {"removed": 1}
    assert not imports_folder(gone.id).exists() and imports_folder(kept.id).exists()


def test_a_file_with_a_name_longer_than_a_file_system_takes_is_stored_with_its_extension(
    db: Any, team: dict[str, Any]
) -> None:
    gap_import = GapImport(campaign_id=team["campaign"].id, files=[], state=ImportState.PENDING)
    db.session.add(gap_import)
    db.session.flush()
    long_name = "rival-" + "b" * 3000 + ".csv"
    [(path, name)] = store_uploads(gap_import, [(long_name, io.BytesIO(b"Domain\nx.com\n"))])
    assert Path(path).read_bytes() == b"Domain\nx.com\n"
    assert Path(path).name.endswith("bbb.csv") and len(Path(path).name) <= 110
    assert name.startswith("rival-bbb") and name.endswith("bbb.csv") and len(name) == MAX_NAME
