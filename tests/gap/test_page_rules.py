from __future__ import annotations

import threading
from pathlib import Path

from crm.gap.exports import Evidence, inspect_export
from crm.gap.page_rules import PageVerdict, judge_pages, verdict_key
from crm.gap.reduce import reduce_exports
from tests.gap.writers import ahrefs_row, write_ahrefs


def verdict(url: str, title: str | None = None, **kw: str) -> PageVerdict:
    page = Evidence(url, title, **kw)  # type: ignore[arg-type]
    return judge_pages([page])[verdict_key(page)]


def test_each_source_says_its_own_link_type_and_the_words_that_did() -> None:
    said = verdict("https://x.com/forum/1", "Best tools for teams", page_category="Directory")
    assert (said.tool_says, said.tool_type) == ("Directory", "directory")
    assert (said.url_type, said.url_words) == ("forum", "/forum/")
    assert (said.title_type, said.title_words) == ("roundup", "Best tools")


def test_the_earliest_words_of_the_first_matching_type_are_the_evidence() -> None:
    # "'s profile" starts before "profile": the leftmost match of the profile words.
    assert verdict("https://x.com/p/1", "Jane's profile").title_words == "'s profile"


def test_a_tools_article_counts_as_editorial_only_when_nothing_else_matches() -> None:
    assert verdict("https://x.com/p", page_type="Article", page_category="Listicle").tool_type == (
        "roundup"
    )
    assert verdict("https://x.com/p", page_type="Article").tool_type == "editorial"
    assert verdict("https://x.com/p", page_type="", page_category="").tool_says == ""


def test_exclusion_patterns_match_the_url_or_the_title() -> None:
    assert verdict("https://x.com/press-release/launch").press_release
    assert verdict("https://x.com/p/1", "Submit your site to our directory").directory
    assert verdict("https://x.com/links/", None).blogroll
    plain = verdict("https://x.com/p/1", "A kanban guide")
    assert not (plain.directory or plain.press_release or plain.blogroll)


def test_case_is_folded_and_a_quote_in_a_pattern_is_kept() -> None:
    assert verdict("HTTPS://X.COM/FORUMS/T", "JANE'S PROFILE").url_type == "forum"
    assert verdict("https://x.com/p", "Our friends' sites").blogroll


def test_every_page_gets_its_own_verdict_in_a_large_batch() -> None:
    pages = [
        Evidence(f"https://x.com/{'forum' if i % 3 else 'p'}/{i}", f"T {i}") for i in range(3000)
    ]
    verdicts = judge_pages(pages)
    assert len(verdicts) == 3000
    assert [verdicts[verdict_key(p)].url_type for p in pages[:4]] == [None, "forum", "forum", None]


def test_pages_are_judged_from_several_threads_at_once() -> None:
    found: list[str | None] = []

    def judge() -> None:
        found.append(verdict("https://x.com/forum/1").url_type)

    threads = [threading.Thread(target=judge) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == ["forum"] * 4


def test_the_reduction_judges_its_pages_as_judge_pages_does(tmp_path: Path) -> None:
    rows = [
        ahrefs_row("https://a.com/forum/1", "https://r.com/", title="Best tools"),
        ahrefs_row("https://b.com/p/2", "https://r.com/", title="Press release: launch"),
        ahrefs_row("https://c.com/2026/01/story", "https://r.com/", page_type="Article"),
        ahrefs_row("https://d.com/links/", "https://r.com/", title="Friends' sites"),
    ]
    path = write_ahrefs(tmp_path / "a.csv", rows)
    with reduce_exports([inspect_export(path)]) as reduction:
        facts = [f for batch in reduction.batches(judged=True) for f in batch]
    pages = [page for fact in facts for group in fact.evidence.values() for page in group]
    judged = {key: v for fact in facts for key, v in (fact.verdicts or {}).items()}
    assert len(judged) == len(pages) == 4
    assert judged == judge_pages(pages)


def test_facts_carry_no_verdicts_unless_asked(tmp_path: Path) -> None:
    path = write_ahrefs(tmp_path / "a.csv", [ahrefs_row("https://a.com/forum/1", "https://r.com/")])
    with reduce_exports([inspect_export(path)]) as reduction:
        assert all(f.verdicts is None for batch in reduction.batches() for f in batch)
