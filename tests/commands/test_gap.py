"""`crm gap import/show`, `crm targets add`, `crm prospects set/add` as CONTRACT says."""

from __future__ import annotations

import csv
import gc
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from crm.gap.sample_exports import gsc_bytes, write
from crm.models import GapImport, Prospect, ProspectStatus
from tests.fixtures.gap import Checkpoint
from tests.gap.mixed_exports import SITE
from tests.gap.writers import SAMPLES

pytestmark = pytest.mark.postgres

CONTRACT_FIELDS = {"domain", "competitors", "overlap", "links_to_us", "backlinks", "authority",
                   "traffic", "dofollow", "spam", "categories", "tier", "score", "status",
                   "excluded_by", "target_url", "angle"}  # fmt: skip


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_import_then_show_tier_1_dr_50_dofollow_as_json_with_the_contract_fields(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path], tmp_path: Path
) -> None:
    # Our site as a plain GSC CSV whose owner only DOMAIN=PATH can tell.
    ours = write(tmp_path / "links.csv", gsc_bytes([("zeta.com", 1, 1), ("eta.com", 2, 1),
                                                    ("theta.de", 1, 1)]))  # fmt: skip
    sources = [str(p) for owner, p in exports.items() if owner != SITE]
    result = run(app, "gap", "import", "Mine", f"{SITE}={ours}", *sources)
    assert result.exit_code == 0, result.output
    assert "12 referring domains, 9 in the gap" in result.stdout
    result = run(app, "gap", "show", "Mine", "--tier", "1", "--min-dr", "50", "--dofollow-only",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["domain"] for r in rows] == ["alpha.com", "beta.co.uk", "webdir.net", "spammy.xyz"]
    alpha = rows[0]
    assert set(alpha) >= CONTRACT_FIELDS
    assert alpha["competitors"] == ["rival-a.com", "rival-b.com", "rival-c.com",
                                    "toolreview.example"]  # fmt: skip
    assert alpha["backlinks"] == {"rival-a.com": 2, "rival-b.com": 1, "rival-c.com": 3,
                                  "toolreview.example": 1}  # fmt: skip
    assert (alpha["overlap"], alpha["links_to_us"], alpha["tier"]) == (4, False, 1)
    assert (alpha["authority"], alpha["traffic"], alpha["dofollow"], alpha["spam"]) == (
        72.0, 52000, True, False)  # fmt: skip
    assert alpha["categories"] == ["best", "strong"] and alpha["status"] == "new"
    assert isinstance(alpha["score"], float) and 0 < alpha["score"] <= 1
    assert {r["domain"]: r["excluded_by"] for r in rows if r["excluded_by"]} == {
        "webdir.net": "directory", "spammy.xyz": "spam"}  # fmt: skip
    visible = run(app, "gap", "show", "Mine", "--tier", "1", "--min-dr", "50", "--dofollow-only",
                  "--visible-only", "--format", "csv")  # fmt: skip
    exported = list(csv.DictReader(io.StringIO(visible.stdout)))
    assert [r["domain"] for r in exported] == ["alpha.com", "beta.co.uk"]
    assert run(app, "gap", "show", "Mine", "--all", "--format", "table").stdout.count("\n") == 13
    # Past PostgreSQL's INTEGER: nobody has that much traffic, not an "out of range" error.
    huge = run(app, "gap", "show", "Mine", "--min-traffic", "3000000000", "--format", "json")
    assert huge.exit_code == 0 and json.loads(huge.stdout) == [], huge.output
    show = run(app, "prospects", "show", "Mine", "alpha.com", "--format", "json")
    shown = json.loads(show.stdout)
    assert shown["evidence"]["rival-a.com"][0]["title"] == "Best kanban tools in 2026"
    assert set(shown["score_parts"]) >= {"authority", "relevance", "feasibility", "weights"}


def test_prospects_set_maps_a_tier_to_a_target_and_angle_and_qualifies_it(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    assert run(app, "gap", "import", "Mine", *map(str, exports.values())).exit_code == 0
    url = "https://sample-site.example/best-kanban-tools"
    result = run(app, "targets", "add", "Mine", url, "--title", "Best kanban tools",
                 "--category", "list", "--keywords", "kanban,tools")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = run(app, "prospects", "set", "Mine", "--tier", "1", "--status", "qualified",
                 "--target-url", "https://sample-site.example/best-kanban-tools",
                 "--angle", "roundup inclusion")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 prospects set to qualified" in result.stdout
    shown = json.loads(run(app, "gap", "show", "Mine", "--tier", "1", "--visible-only",
                           "--format", "json").stdout)  # fmt: skip
    assert {(r["status"], r["target_url"], r["angle"]) for r in shown} == {
        ("qualified", "https://sample-site.example/best-kanban-tools", "roundup-inclusion")
    }
    result = run(app, "prospects", "set", "Mine", "--domain", "epsilon.io", "--status", "excluded",
                 "--reason", "parked domain")  # fmt: skip
    assert result.exit_code == 0, result.output
    epsilon = db.session.scalar(select(Prospect).where(Prospect.domain == "epsilon.io"))
    assert epsilon.status == ProspectStatus.EXCLUDED and epsilon.excluded_note == "parked domain"


def test_prospects_set_on_a_big_gap_commits_a_batch_at_a_time_and_sums_up_every_batch(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import crm.commands.gap

    monkeypatch.setattr(crm.commands.gap, "BULK_BATCH", 2)
    assert run(app, "gap", "import", "Mine", *map(str, exports.values())).exit_code == 0
    visible = select(Prospect).where(Prospect.in_gap.is_(True), Prospect.excluded_by.is_(None))
    count = len(db.session.scalars(visible).all())
    db.session.rollback()
    bad = run(app, "prospects", "set", "Mine", "--all-gap", "--status", "qualified",
              "--angle", "no such angle")  # fmt: skip
    assert bad.exit_code != 0 and "unknown angle 'no such angle'" in bad.stderr
    statuses = {p.status for p in db.session.scalars(visible)}
    assert statuses == {ProspectStatus.NEW}, "the first batch failed: nothing was committed"
    db.session.rollback()

    result = run(app, "prospects", "set", "Mine", "--all-gap", "--status", "qualified",
                 "--angle", "roundup inclusion")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{count} prospects set to qualified.",
        f"{count} prospects given the angle roundup inclusion.",
    ]
    assert {(p.status, p.angle) for p in db.session.scalars(visible)} == {
        (ProspectStatus.QUALIFIED, "roundup-inclusion")
    }


def test_prospects_add_normalises_dedupes_and_tags_the_source(
    app: Flask, db: Any, team: dict[str, Any]
) -> None:
    result = run(app, "prospects", "add", "Mine", "https://www.Newsletter.example.com/resources/",
                 "newsletter.example.com", "rival-a.com", "not a domain",
                 "--source", "curators")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 prospects added" in result.stdout
    assert "rival-a.com is a competitor" in result.stderr and "not a domain" in result.stderr
    p = db.session.scalar(select(Prospect).where(Prospect.domain == "example.com"))
    assert p.source == "curators" and p.link_type == "resource" and p.angle
    again = run(app, "prospects", "add", "Mine", "example.com")
    assert "already there: example.com" in again.stdout


def test_a_bad_file_is_one_line_on_stderr_and_nothing_is_written(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path], tmp_path: Path
) -> None:
    bad = write(tmp_path / "rival-b.com-backlinks_refdomains.csv",
                b"Domain ascore,Domain,Backlinks\n45,visit.example,1,240\n")  # fmt: skip
    result = run(app, "gap", "import", "Mine", *map(str, exports.values()), str(bad))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "rival-b.com-backlinks_refdomains.csv, line 2" in result.stderr
    assert db.session.scalar(select(func.count()).select_from(Prospect)) == 0
    assert db.session.scalar(select(func.count()).select_from(GapImport)) == 0
    missing = run(app, "gap", "import", "Mine", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr


def test_a_nul_character_in_an_exports_title_is_refused_with_its_line_and_column(
    app: Flask, db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    # PostgreSQL cannot store it: the import failed with a traceback while writing.
    text = (SAMPLES / "ahrefs-backlinks.sample.csv").read_bytes().decode("utf-16")
    lines = text.split("\n")
    lines[2] = lines[2].replace('"\t', '\x00"\t', 1)  # the end of the page title
    bad = write(tmp_path / "rival-a.com-backlinks.csv", "\n".join(lines).encode("utf-16"))
    result = run(app, "gap", "import", "Mine", f"rival-a.com={bad}")
    assert result.exit_code == 1, result.output
    assert result.stderr == ('Error: rival-a.com-backlinks.csv, line 3, column "Referring page '
                             'title": a NUL character (is this a binary file?)\n')  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(Prospect)) == 0


def test_show_all_as_json_streams_row_by_row_what_one_json_document_would_print(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path]
) -> None:
    from crm.commands import gap as gap_commands
    from crm.gap.queries import GapFilter, iter_facts

    assert run(app, "gap", "import", "Mine", *map(str, exports.values())).exit_code == 0
    rows = list(iter_facts(team["campaign"].id, GapFilter(view="all", hidden="all")))
    whole = json.dumps(rows, indent=2, default=str, ensure_ascii=False) + "\n"
    written: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            written.append(text)

    stdout, sys.stdout = sys.stdout, Out()  # type: ignore[assignment]
    try:
        gap_commands._stream_json(iter(rows))
        streamed_rows = len(written)
        gap_commands._stream_json(iter([]))
    finally:
        sys.stdout = stdout
    assert "".join(written[:streamed_rows]) == whole
    assert streamed_rows > 2 * len(rows)  # a write per row, never one document at once
    assert "".join(written[streamed_rows:]) == "[]\n"
    shown = run(app, "gap", "show", "Mine", "--all", "--format", "json")
    assert json.loads(shown.stdout) == json.loads(whole)


def test_an_import_runs_without_the_cyclic_collector_and_gives_it_back(
    app: Flask, db: Any, team: dict[str, Any], exports: dict[str, Path],
    after_each_batch: Callable[[Checkpoint], None],
) -> None:  # fmt: skip
    collecting: list[bool] = []
    after_each_batch(lambda done, total: collecting.append(gc.isenabled()))
    result = run(app, "gap", "import", "Mine", *(f"{o}={p}" for o, p in exports.items()))
    assert result.exit_code == 0, result.output
    assert collecting and not any(collecting)
    assert gc.isenabled()


def test_a_failed_import_gives_the_cyclic_collector_back(
    app: Flask, db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    broken = tmp_path / "rival-a.com-backlinks.csv"
    broken.write_text("not,an,export\n1,2,3\n")
    result = run(app, "gap", "import", "Mine", f"rival-a.com={broken}")
    assert result.exit_code != 0
    assert gc.isenabled()
