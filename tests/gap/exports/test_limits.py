"""Every read of an upload is bounded: line length, ZIP member size and ratio, memory."""

from __future__ import annotations

import io
import json
import random
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from crm.gap.exports import ExportError, LinkTable, inspect_export, limits, read_links
from crm.gap.exports.limits import MAX_LINE_CHARS, BoundedMember
from tests.gap.writers import SEMRUSH_HEADER, csv_text, semrush_row, write_semrush

BOMB_LINE = 300 << 20


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~300 KB ZIP holding one 300 MB line (an export header, then no newline)."""
    path = tmp_path_factory.mktemp("bomb") / "rival.com-backlinks.zip"
    block = b"a" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("rival.com-backlinks.csv", "w", force_zip64=True) as out,
    ):
        out.write(csv_text(SEMRUSH_HEADER, []).encode())
        for _ in range(BOMB_LINE >> 20):
            out.write(block)
    return path


def test_a_zip_bomb_is_refused_at_once_with_a_clear_message(bomb: Path) -> None:
    assert bomb.stat().st_size < 1 << 20
    # Refused from the archive's declared sizes (the ratio check), before anything is
    # unpacked: no wall-clock assertion, which a loaded CI machine would make flaky.
    with pytest.raises(ExportError) as caught:
        inspect_export(bomb)
    assert caught.value.file == "rival.com-backlinks.zip › rival.com-backlinks.csv"
    assert "refused as a ZIP bomb" in caught.value.message


def test_inspecting_a_zip_bomb_takes_bounded_memory(bomb: Path) -> None:
    script = (
        "import json, resource, sys\n"
        "from crm.gap.exports import ExportError, inspect_export\n"
        "from crm.gap.exports import limits\n"
        "limits.MAX_RATIO = 10**9  # past the ratio check: the line limit must hold alone\n"
        "try:\n"
        "    inspect_export(sys.argv[1])\n"
        "except ExportError as exc:\n"
        "    error = str(exc)\n"
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork and exec, so it
        # would report the (large) pytest parent's peak, not this process's.
        "try:\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    peak = int(status.split()[0]) * 1024\n"
        "except (OSError, IndexError):\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps({'error': error, 'peak': peak}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb)], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    assert found["peak"] < 256 << 20
    assert found["error"].startswith("rival.com-backlinks.zip › rival.com-backlinks.csv, line 2:")
    assert "longer than" in found["error"]


def test_a_line_past_the_limit_names_file_and_line(tmp_path: Path) -> None:
    path = write_semrush(
        tmp_path / "rival.com-backlinks.csv", [semrush_row("https://a.com/x", "https://rival.com/")]
    )
    with path.open("a") as out:
        out.write("x" * (MAX_LINE_CHARS + 10) + "\n")
    with pytest.raises(ExportError) as caught:
        list(read_links(inspect_export(path)))
    assert (caught.value.file, caught.value.line) == ("rival.com-backlinks.csv", 3)
    assert "longer than 1,048,576 characters" in caught.value.message


def test_a_long_line_inside_a_zip_that_packs_plausibly_is_refused_by_its_length(
    tmp_path: Path,
) -> None:
    noise = "".join(random.Random(1).choices(string.ascii_letters, k=MAX_LINE_CHARS + 1))
    path = tmp_path / "rival.com.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rival.com-backlinks.csv", noise)
    with pytest.raises(ExportError, match=r"rival.com-backlinks.csv, line 1: the line is longer"):
        inspect_export(path)


def test_a_member_larger_than_the_limit_is_refused_by_its_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_MEMBER_BYTES", 1000)
    path = tmp_path / "rival.com.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("rival.com-backlinks.csv", "x" * 2000)
    with pytest.raises(ExportError, match="unpacked; the limit is"):
        inspect_export(path)


def test_a_member_that_unpacks_past_its_declared_size_stops_there() -> None:
    member = BoundedMember(io.BytesIO(b"x" * 20), "a.zip › a.csv", declared=10)  # type: ignore[arg-type]
    with pytest.raises(ExportError, match="more than the size it declares"):
        while member.read(4):
            pass


def test_real_exports_pack_well_within_the_ratio(tmp_path: Path) -> None:
    rows = [
        semrush_row(f"https://site{i}.com/page/{i}", "https://rival.com/") for i in range(20_000)
    ]
    csv = write_semrush(tmp_path / "rival.com-backlinks.csv", rows)
    path = tmp_path / "rival.com.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv, "rival.com-backlinks.csv")
    assert len(list(read_links(inspect_export(path)))) == 20_000


def test_the_import_database_reads_only_the_import_files(tmp_path: Path) -> None:
    path = write_semrush(
        tmp_path / "rival.com-backlinks.csv", [semrush_row("https://a.com/x", "https://rival.com/")]
    )
    other = tmp_path / "secret.csv"
    other.write_text("password\nhunter2\n")
    with LinkTable([inspect_export(path)]) as table:
        assert table.con.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone()[0] == 1
        for statement in (
            f"SELECT * FROM read_csv('{other}')",
            "SELECT * FROM read_text('/etc/hostname')",
            "SET enable_external_access = true",
            "INSTALL httpfs",
        ):
            with pytest.raises(duckdb.Error):
                table.con.execute(statement)
