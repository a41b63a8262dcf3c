"""Bad exports: each is refused with file, line and column; nothing is imported; the
previous snapshot stays intact."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm.gap.sample_exports import (
    SampleLink,
    ahrefs_backlinks_bytes,
    semrush_backlinks_bytes,
    write,
)
from crm.gap.service import SourceFile, add_sources, create_import, latest_snapshot, run_import
from crm.models import Evidence, GapImport, ImportState, Prospect, SnapshotDomain
from tests.fixtures.gap import Checkpoint, ImportFn
from tests.gap.writers import SAMPLES as DATA

pytestmark = pytest.mark.postgres

_LINKS = [SampleLink(f"https://site{i}.example.org/p", "https://rival-b.com/x", authority=30)
          for i in range(5)]  # fmt: skip
SEMRUSH = semrush_backlinks_bytes(_LINKS).decode()
AHREFS = ahrefs_backlinks_bytes(
    SampleLink(f"https://site{i}.example.org/p", "https://rival-a.com/x", authority=30,
               traffic=4321)
    for i in range(5)
)  # fmt: skip


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _zip_without_csv() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Links report.pdf", b"%PDF-1.4")
    return out.getvalue()


BROKEN_ROW = '24,"A title with a quote never closed,https://x.example.net/,https://rival-b.com/\n'

# name -> (file name, bytes, what the message must say)
CASES: dict[str, tuple[str, Callable[[], bytes], tuple[str, ...]]] = {
    "wrong encoding": ("semrush-latin1.csv",
                       lambda: SEMRUSH.replace("site3.example.org/p", "site3.example.org/café")
                       .encode("latin-1"), ("line 5", "not valid UTF-8")),
    "truncated file": ("ahrefs-cut.csv", lambda: AHREFS[: len(AHREFS) - 101],
                       ("line 6", "truncated")),
    "missing column": ("semrush-no-target.csv",
                       lambda: SEMRUSH.replace("Target url,", "Target,").encode(),
                       ("line 1", '"Target url"', "found:")),
    "grouped number": ("ahrefs-grouped.csv",
                       lambda: AHREFS.replace(_utf16('"4321"'), _utf16('"1,240"'), 1),
                       ("line 2", 'column "Domain traffic"', '"1,240"')),
    "dash for a number": ("ahrefs-dash.csv",
                          lambda: AHREFS.replace(_utf16('"30"'), _utf16('"—"'), 1),
                          ("line 2", 'column "Domain rating"', '"—"')),
    "broken CSV row": ("semrush-broken.csv", lambda: (SEMRUSH + BROKEN_ROW).encode(),
                       ("line 7", "quote")),
    "empty file": ("empty.csv", lambda: b"", ("the file is empty",)),
    "ZIP with no CSV": ("links.zip", _zip_without_csv, ("no CSV", "Links report.pdf")),
    "a foreign site's export": ("semrush-foreign.csv",
                                lambda: SEMRUSH.replace("rival-b.com", "elsewhere.example.net")
                                .encode(),
                                ("example.net", "neither the campaign's site (sample-site.example)",
                                 "rival-a.com")),
}  # fmt: skip


def _state(db: Any) -> dict[str, Any]:
    rows = db.session.execute(
        select(Prospect.domain, Prospect.last_import_id, Prospect.score, Prospect.in_gap)
    ).all()
    return {
        "prospects": sorted(tuple(r) for r in rows),
        "evidence": db.session.scalar(select(func.count()).select_from(Evidence)),
        "snapshot_rows": db.session.scalar(select(func.count()).select_from(SnapshotDomain)),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_refused_with_where_and_the_previous_snapshot_stays(
    db: Any, team: dict[str, Any], exports: dict[str, Path], import_files: ImportFn,
    tmp_path: Path, case: str,
) -> None:  # fmt: skip
    campaign = team["campaign"]
    first = import_files(campaign, exports.values())
    before = _state(db)
    name, make, expected = CASES[case]
    bad = write(tmp_path / "bad" / name, make())
    gap_import = create_import(campaign)
    add_sources(gap_import, [SourceFile(str(p), p.name) for p in [*exports.values(), bad]])
    db.session.commit()
    entry = gap_import.files[-1]
    if entry.get("error"):  # refused when inspected: the import cannot even start
        message = entry["error"]
        assert all(not f.get("error") for f in gap_import.files[:-1])
    else:  # refused while reading: the import fails as a whole
        done = run_import(gap_import.id)
        assert done.state == ImportState.FAILED
        message = done.error
        assert done.files[-1]["error"] == message
    assert message.startswith(name), message
    for part in expected:
        assert part in message, message
    db.session.expire_all()
    assert latest_snapshot(campaign).id == first.id
    assert _state(db) == before


def test_the_shared_sample_exports_read_as_the_tools_write_them(
    db: Any, team: dict[str, Any], import_files: ImportFn
) -> None:
    """The sample files of shared/formats, byte for byte, import into a campaign of their site."""
    from crm.core.campaigns import create_campaign

    campaign = create_campaign("Samples", "sample-site.example", ["toolreview.example",
                                                                 "visitexample.com"])  # fmt: skip
    db.session.commit()
    sources = [
        SourceFile(str(DATA / "ahrefs-backlinks.sample.csv"), "ahrefs-backlinks.sample.csv"),
        SourceFile(str(DATA / "semrush-backlinks.sample.csv"), "semrush-backlinks.sample.csv"),
        SourceFile(str(DATA / "gsc-top-linking-sites.sample.csv"), "gsc.csv",
                   owner="sample-site.example"),
        SourceFile(str(DATA / "ahrefs-refdomains.sample.csv"),
                   "toolreview.example-refdomains-subdomains_2026-11-02.csv"),
    ]  # fmt: skip
    done = import_files(campaign, sources)
    assert done.state == ImportState.DONE, done.error
    prospects = {p.domain: p for p in db.session.scalars(select(Prospect))}
    # news.example.org folds to example.org: it links to us; its toolreview link is lost.
    assert prospects["example.org"].links_to_us and not prospects["example.org"].in_gap
    spam = prospects["example.xyz"]  # seo-list.example.xyz
    assert spam.in_gap and spam.excluded_by == "spam" and spam.authority == 0.9
    # GSC "1,240" linking pages of big-news.example.com, 12 of blog., 1 from Semrush.
    assert prospects["example.com"].backlinks == {"sample-site.example": 1253}
    assert db.session.scalar(select(func.count()).select_from(GapImport)) == 1


def test_the_snapshot_is_committed_a_batch_at_a_time_so_others_never_wait_on_it(
    db: Any,
    team: dict[str, Any],
    exports: dict[str, Path],
    import_files: ImportFn,
    after_each_batch: Callable[[Checkpoint], None],
) -> None:
    from sqlalchemy import create_engine, text

    from tests.gap.mixed_exports import EXPECTED

    campaign = team["campaign"]
    url = db.engine.url
    sqlite = url.get_backend_name() == "sqlite"
    # Another user's connection that will not wait for a lock: it fails at once if the import
    # holds one (SQLite's database lock, PostgreSQL's locks on the rows written so far).
    other = create_engine(url, connect_args={"timeout": 0} if sqlite else {})
    seen: list[tuple[int, int]] = []

    def write_as_someone_else(done: int, total: int) -> None:
        seen.append((done, total))
        with other.begin() as conn:
            if not sqlite:
                conn.execute(text("SET LOCAL lock_timeout = '100ms'"))
            conn.execute(
                text("UPDATE prospects SET notes = notes WHERE campaign_id = :c"),
                {"c": campaign.id},
            )

    after_each_batch(write_as_someone_else)
    done = import_files(campaign, exports.values())
    other.dispose()

    assert done.state == ImportState.DONE, done.error
    total = len(EXPECTED)
    assert seen == [(min(n, total), total) for n in range(3, total + 3, 3)]
    assert done.domain_count == total
    assert set(db.session.scalars(select(Prospect.domain))) == set(EXPECTED)
