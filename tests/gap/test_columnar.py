"""The DuckDB engine computes exactly what the streaming reducer computes, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.gap import columnar
from crm.gap.exports import ExportError, ExportInfo, inspect_export
from crm.gap.reduce import EVIDENCE_PER_SITE, TARGETS_PER_SITE, Reduction, reduce_exports
from tests.gap.writers import ahrefs_row, semrush_row, write_ahrefs, write_semrush


def both(infos: list[ExportInfo]) -> tuple[Reduction, Reduction]:
    return (
        reduce_exports(infos, engine="streaming"),
        reduce_exports(infos, engine="columnar"),
    )


def assert_same(streaming: Reduction, duck: Reduction) -> None:
    assert list(duck.facts) == list(streaming.facts)
    for domain, fact in streaming.facts.items():
        assert duck.facts[domain] == fact, domain
        assert list(duck.facts[domain].evidence) == list(fact.evidence)
    assert duck.sites == streaming.sites
    assert duck.files == streaming.files


def assert_engines_agree(info: ExportInfo) -> None:
    """Both engines give the same reduction, or the same error."""
    try:
        streaming = reduce_exports([info], engine="streaming")
    except ExportError as exc:
        with pytest.raises(ExportError) as caught:
            reduce_exports([info], engine="columnar")
        assert str(caught.value) == str(exc)
        return
    assert_same(streaming, reduce_exports([info], engine="columnar"))


def mixed_exports(tmp_path: Path) -> list[ExportInfo]:
    rows = []
    for i in range(30):
        host = ("www.", "", "blog.", "WWW.")[i % 4] + f"site{i % 7}.co.uk"
        rows.append(
            ahrefs_row(
                f"https://{host}/page-{i % 5}",
                f"https://ours.com/p{i % 23}",
                dr=str(10 + i % 60),
                ur=str((i * 7) % 40),
                nofollow="true" if i % 3 == 0 else "false",
                ugc="true" if i % 11 == 0 else "false",
                sponsored="true" if i % 13 == 0 else "false",
                spam="true" if i == 4 else "false",
                traffic=str(i * 100) if i % 5 else "",
                lost="2026-02-01" if i % 9 == 0 else "",
                lost_status="removed" if i % 10 == 0 else "",
                language=("en", "", "de")[i % 3],
                title=f'Best "tools" #{i}, ranked\tnow',
            )
        )
    ours = write_ahrefs(tmp_path / "ours.csv", rows)
    older = write_ahrefs(
        tmp_path / "ours-older.csv",
        [ahrefs_row(f"https://site{i}.co.uk/x", "https://ours.com/", older=True) for i in range(5)],
        older=True,
    )
    rival = write_semrush(
        tmp_path / "rival.csv",
        [
            semrush_row(
                f"https://{('', 'www.')[i % 2]}site{i % 9}.co.uk/r{i % 4}",
                f"https://rival.com/t{i % 25}",
                score=str(i * 3 % 100),
                nofollow=("true", "false", "")[i % 3],
                lost=("false", "true", "")[i % 3],
                title=f"Roundup, part {i} — ünïcode",
            )
            for i in range(60)
        ],
    )
    return [inspect_export(p) for p in (ours, older, rival)]


def test_columnar_engine_gives_the_streaming_facts_in_the_same_order(tmp_path: Path) -> None:
    infos = mixed_exports(tmp_path)
    assert columnar.reduce_columnar(infos, EVIDENCE_PER_SITE, TARGETS_PER_SITE) is not None
    assert_same(*both(infos))


def test_targets_over_the_cap_keep_the_first_ones_in_file_order(tmp_path: Path) -> None:
    rows = [ahrefs_row("https://hub.com/a", f"https://ours.com/{(i * 7) % 40}") for i in range(60)]
    info = inspect_export(write_ahrefs(tmp_path / "ours.csv", rows))
    streaming, duck = both([info])
    assert_same(streaming, duck)
    assert len(duck.facts["hub.com"].targets["ours.com"]) == TARGETS_PER_SITE


@pytest.mark.parametrize(
    ("column", "value"),
    [("traffic", "1,240"), ("dr", "—"), ("spam", "TRUE"), ("dr", "101"), ("ur", " 5")],
)
def test_a_cell_not_at_face_value_goes_to_the_streaming_reader(
    tmp_path: Path, column: str, value: str
) -> None:
    rows = [ahrefs_row("https://a.com/x", "https://ours.com/") for _ in range(3)]
    rows.append(ahrefs_row("https://b.com/y", "https://ours.com/", **{column: value}))
    info = inspect_export(write_ahrefs(tmp_path / "ours.csv", rows))
    assert columnar.reduce_columnar([info], EVIDENCE_PER_SITE, TARGETS_PER_SITE) is None
    assert_engines_agree(info)


def test_a_broken_row_is_reported_with_its_line_whatever_the_engine(tmp_path: Path) -> None:
    path = write_semrush(
        tmp_path / "rival.csv",
        [semrush_row(f"https://s{i}.com/", "https://rival.com/") for i in range(4)],
    )
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(3, '40,"unterminated,https://x.com/')
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    info = inspect_export(path)
    with pytest.raises(ExportError) as streaming:
        reduce_exports([info], engine="streaming")
    with pytest.raises(ExportError) as duck:
        reduce_exports([info], engine="columnar")
    assert str(duck.value) == str(streaming.value)
    assert duck.value.line is not None


def test_a_file_changed_since_inspection_is_refused(tmp_path: Path) -> None:
    path = write_ahrefs(tmp_path / "ours.csv", [ahrefs_row("https://a.com/", "https://ours.com/")])
    info = inspect_export(path)
    write_semrush(path, [semrush_row("https://a.com/", "https://ours.com/")])
    with pytest.raises(ExportError, match="changed since it was inspected"):
        reduce_exports([info], engine="columnar")


def test_auto_uses_duckdb_only_for_large_page_level_imports(tmp_path: Path) -> None:
    infos = mixed_exports(tmp_path)
    from crm.gap.reduce import _columnar_jobs

    jobs = [(info, (), (EVIDENCE_PER_SITE, TARGETS_PER_SITE)) for info in infos]
    assert _columnar_jobs(jobs, "auto") == []
    assert _columnar_jobs(jobs, "columnar") == [0, 1, 2]
    assert _columnar_jobs(jobs, "streaming") == []


_CELL = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n\x1f"),
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a.com", "www.a.com", "b.org", "x.b.org", "c.co.uk", "bücher.de"]),
            st.sampled_from(["/", "/p", "/p?q=1", "/deep/page"]),
            st.sampled_from(["https://ours.com/", "https://ours.com/t", ""]),
            st.sampled_from(["", "0", "10", "55.5", "100"]),
            st.sampled_from(["", "0", "19.9", "20", "99"]),
            st.sampled_from(["true", "false", ""]),
            st.sampled_from(["", "2026-01-01"]),
            _CELL,
            _CELL,
        ),
        min_size=1,
        max_size=25,
    )
)
def test_both_engines_agree_on_any_page_level_export(tmp_path: Path, rows: list[tuple]) -> None:
    path = write_ahrefs(
        tmp_path / "ours.csv",
        [
            ahrefs_row(
                f"https://{host}{page}",
                target,
                dr=dr,
                ur=ur,
                nofollow=flag,
                lost=lost,
                title=title,
                anchor=anchor,
                language=anchor[:2],
            )
            for host, page, target, dr, ur, flag, lost, title, anchor in rows
        ],
    )
    assert_engines_agree(inspect_export(path, owner="ours.com"))
