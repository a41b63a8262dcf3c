from __future__ import annotations

from pathlib import Path

import pytest

from crm.gap.exports import ExportError, inspect_export
from crm.gap.facts import DomainFacts
from crm.gap.reduce import check_owners, reduce_exports
from tests.gap.writers import ahrefs_row, csv_text, semrush_row, write_ahrefs, write_semrush


def ahrefs(tmp_path: Path, name: str, rows: list[list[object]]) -> Path:
    return write_ahrefs(tmp_path / name, rows)


def test_links_of_several_exports_fold_into_one_fact_per_domain(tmp_path: Path) -> None:
    ours = ahrefs(
        tmp_path,
        "ours.csv",
        [
            ahrefs_row("https://www.news.com/a", "https://our.com/", dr="71", traffic="9000"),
            ahrefs_row("https://news.com/b", "https://our.com/x", dr="71", nofollow="true"),
        ],
    )
    rival = write_semrush(
        tmp_path / "rival.csv",
        [
            semrush_row("https://blog.news.com/c", "https://rival.com/", score="30"),
            semrush_row("https://tools.org/list", "https://rival.com/guide", score="44"),
            semrush_row("https://tools.org/old", "https://rival.com/guide", lost="true"),
        ],
    )
    result = reduce_exports([inspect_export(ours), inspect_export(rival)])
    assert result.sites == ("our.com", "rival.com")
    news = result.facts()["news.com"]
    assert news.backlinks == {"our.com": 2, "rival.com": 1}
    assert (news.authority, news.traffic, news.dofollow, news.language) == (71.0, 9000, True, "en")
    assert news.sites == frozenset({"our.com", "rival.com"})
    tools = result.facts()["tools.org"]
    assert tools.backlinks == {"rival.com": 1} and tools.lost == {"rival.com": 1}
    assert tools.authority == 44.0 and tools.spam is None and tools.traffic is None
    assert [f.records for f in result.files] == [2, 3]
    assert [f.domains for f in result.files] == [1, 2]


def test_dofollow_spam_and_paid_or_ugc_only(tmp_path: Path) -> None:
    path = ahrefs(
        tmp_path,
        "a.csv",
        [
            ahrefs_row("https://nf.com/", "https://r.com/", nofollow="true"),
            ahrefs_row("https://paid.com/1", "https://r.com/", sponsored="true"),
            ahrefs_row("https://paid.com/2", "https://r.com/", ugc="true", nofollow="true"),
            ahrefs_row("https://mixed.com/1", "https://r.com/", sponsored="true"),
            ahrefs_row("https://mixed.com/2", "https://r.com/", nofollow="true", spam="true"),
        ],
    )
    facts = reduce_exports([inspect_export(path)]).facts()
    assert facts["nf.com"].dofollow is False and not facts["nf.com"].paid_or_ugc_only
    assert facts["paid.com"].paid_or_ugc_only and facts["paid.com"].dofollow is False
    assert not facts["mixed.com"].paid_or_ugc_only and facts["mixed.com"].spam is True
    assert facts["nf.com"].spam is False


def test_dofollow_is_unknown_when_no_export_says(tmp_path: Path) -> None:
    path = tmp_path / "rival.com-backlinks_refdomains.csv"
    path.write_text("Domain ascore,Domain,Backlinks\n10,a.com,2\n")
    fact = reduce_exports([inspect_export(path)]).facts()["a.com"]
    assert fact.dofollow is None and fact.backlinks == {"rival.com": 2}


def test_evidence_keeps_the_best_few_distinct_pages_best_first(tmp_path: Path) -> None:
    rows = [
        ahrefs_row(f"https://big.com/p{i}", "https://r.com/", ur=str(10 * i), nofollow="true")
        for i in range(10)
    ]
    rows.append(ahrefs_row("https://big.com/p3", "https://r.com/other", ur="30", nofollow="true"))
    rows.append(ahrefs_row("https://big.com/follow", "https://r.com/", ur="1"))
    rows.append(ahrefs_row("https://big.com/gone", "https://r.com/", ur="99", lost="2026-01-01"))
    path = ahrefs(tmp_path, "a.csv", rows)
    fact = reduce_exports([inspect_export(path)], evidence_per_site=3).facts()["big.com"]
    pages = [e.page_url.rsplit("/", 1)[1] for e in fact.evidence["r.com"]]
    assert pages == ["follow", "p9", "p8"]  # followed first, then live by page rating
    assert fact.backlinks == {"r.com": 12} and fact.lost == {"r.com": 1}


def test_target_urls_per_site_are_kept_up_to_a_cap(tmp_path: Path) -> None:
    rows = [ahrefs_row("https://a.com/", f"https://r.com/p{i % 6}") for i in range(30)]
    fact = reduce_exports(
        [inspect_export(ahrefs(tmp_path, "a.csv", rows))], targets_per_site=4
    ).facts()["a.com"]
    assert fact.targets == {"r.com": tuple(f"https://r.com/p{i}" for i in range(4))}


def test_two_exports_of_one_site_add_up(tmp_path: Path) -> None:
    one = ahrefs(tmp_path, "1.csv", [ahrefs_row("https://a.com/1", "https://r.com/", dr="10")])
    two = write_semrush(
        tmp_path / "2.csv", [semrush_row("https://a.com/2", "https://r.com/x", score="20")]
    )
    fact = reduce_exports([inspect_export(one), inspect_export(two)]).facts()["a.com"]
    assert fact.backlinks == {"r.com": 2} and fact.authority == 20.0
    assert {e.page_url for e in fact.evidence["r.com"]} == {"https://a.com/1", "https://a.com/2"}


def test_every_file_is_read_before_anything_is_returned(tmp_path: Path) -> None:
    good = ahrefs(tmp_path, "good.csv", [ahrefs_row("https://a.com/", "https://r.com/")])
    bad = ahrefs(
        tmp_path,
        "bad.csv",
        [
            ahrefs_row("https://a.com/", "https://s.com/"),
            ahrefs_row("https://b.com/", "https://s.com/", dr="—"),
        ],
    )
    infos = [inspect_export(good), inspect_export(bad)]
    with pytest.raises(ExportError, match=r'bad.csv, line 3, column "Domain rating"'):
        reduce_exports(infos)


def test_an_export_of_a_site_outside_the_campaign_is_refused(tmp_path: Path) -> None:
    path = ahrefs(tmp_path, "x.csv", [ahrefs_row("https://a.com/", "https://stranger.com/")])
    with pytest.raises(
        ExportError,
        match=r"this export is for stranger.com, which is neither the "
        r"campaign's site \(our.com\) nor one of its "
        r"competitors \(r1.com, r2.com\)",
    ):
        reduce_exports([inspect_export(path)], site="our.com", competitors=["r1.com", "r2.com"])


def test_sites_of_a_multi_site_export_outside_the_campaign_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text(
        csv_text(
            ("Domain", "Domain ascore", "our.com", "r1.com", "other.com"),
            [("a.com", "20", "", "2", "7")],
        )
    )
    result = reduce_exports([inspect_export(path)], site="our.com", competitors=["r1.com"])
    assert result.facts()["a.com"].backlinks == {"r1.com": 2}
    assert result.files[0].ignored_sites == ("other.com",)
    assert result.sites == ("our.com", "r1.com") and result.covered("our.com")


def test_a_multi_site_export_naming_no_campaign_site_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text(
        csv_text(("Domain", "Domain ascore", "x.com", "y.com"), [("a.com", "2", "1", "")])
    )
    with pytest.raises(ExportError, match=r"compares x.com, y.com, none of which"):
        check_owners([inspect_export(path)], "our.com", ["r1.com"])


def test_domain_facts_compare_by_value() -> None:
    assert DomainFacts("a.com", backlinks={"r.com": 1}) == DomainFacts(
        "a.com", backlinks={"r.com": 1}
    )
    assert DomainFacts("a.com").evidence == {} and DomainFacts("a.com").sites == frozenset()


def test_progress_is_reported_in_bytes_up_to_the_total(tmp_path: Path) -> None:
    paths = [
        ahrefs(
            tmp_path,
            f"{i}.csv",
            [ahrefs_row(f"https://d{j}.com/", f"https://r{i}.com/") for j in range(50)],
        )
        for i in range(2)
    ]
    infos = [inspect_export(p) for p in paths]
    seen: list[tuple[int, int]] = []
    reduce_exports(infos, on_progress=lambda done, total: seen.append((done, total)))
    total = sum(p.stat().st_size for p in paths)
    assert seen and all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (total, total)


def test_pages_within_one_score_step_keep_the_earlier_row(tmp_path: Path) -> None:
    rows = [ahrefs_row(f"https://a.com/p{i}", "https://r.com/", ur=str(40 + i)) for i in range(6)]
    fact = reduce_exports(
        [inspect_export(ahrefs(tmp_path, "a.csv", rows))], evidence_per_site=2
    ).facts()["a.com"]
    assert [e.page_url for e in fact.evidence["r.com"]] == ["https://a.com/p0", "https://a.com/p1"]


def test_facts_come_in_batches_of_domains_in_order(tmp_path: Path) -> None:
    rows = [ahrefs_row(f"https://d{i:02d}.com/", "https://r.com/") for i in range(25)]
    with reduce_exports([inspect_export(ahrefs(tmp_path, "a.csv", rows))]) as result:
        batches = list(result.batches(size=10))
        assert [len(b) for b in batches] == [10, 10, 5] and len(result) == 25
        assert [f.domain for b in batches for f in b] == [f"d{i:02d}.com" for i in range(25)]


def test_carried_sites_join_the_facts_of_this_import(tmp_path: Path) -> None:
    path = ahrefs(tmp_path, "a.csv", [ahrefs_row("https://a.com/", "https://r.com/", dr="10")])
    with reduce_exports([inspect_export(path)]) as result:
        result.carry(
            [
                ("a.com", "old.com", 4, 30.0, 99, False, True),
                ("b.com", "old.com", 2, None, None, None, None),
            ]
        )
        facts = result.facts()
    assert facts["a.com"].backlinks == {"r.com": 1, "old.com": 4}
    assert (facts["a.com"].authority, facts["a.com"].traffic, facts["a.com"].spam) == (
        30.0,
        1000,
        True,
    )
    assert facts["b.com"].backlinks == {"old.com": 2} and facts["b.com"].dofollow is None


def test_the_import_database_goes_away_when_the_reduction_is_closed(tmp_path: Path) -> None:
    path = ahrefs(tmp_path, "a.csv", [ahrefs_row("https://a.com/", "https://r.com/")])
    with reduce_exports([inspect_export(path)]) as result:
        scratch = Path(result._table.scratch)
        assert scratch.is_dir()
    assert not scratch.exists()
