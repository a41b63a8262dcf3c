"""Linkable assets: competitor pages ranked by the gap domains linking to them."""

from __future__ import annotations

from crm.gap.assets import AssetTally, page_key
from crm.gap.compute import GapSettings, compute_gap
from crm.gap.exports import Evidence
from crm.gap.facts import DomainFacts

SETTINGS = GapSettings("us.com", ("a.com", "b.com"))


def test_page_key_folds_spellings_of_one_page() -> None:
    assert page_key("https://www.A.com/guide/") == page_key("http://a.com/guide#top")
    assert page_key("https://a.com/guide?utm_source=x&id=2") == "a.com/guide?id=2"
    assert page_key("https://a.com") == "a.com/"


def test_assets_rank_competitor_pages_by_gap_domains_linking_to_them() -> None:
    facts = {
        "one.org": DomainFacts(
            "one.org",
            backlinks={"a.com": 2},
            authority=30.0,
            targets={"a.com": ("https://a.com/guide/", "https://a.com/tool")},
        ),
        "two.org": DomainFacts(
            "two.org",
            backlinks={"a.com": 1},
            authority=60.0,
            targets={"a.com": ("https://www.a.com/guide",)},
            evidence={
                "a.com": (
                    Evidence("https://two.org/p", lost="removed", target_url="https://a.com/guide"),
                )
            },
        ),
        "ours.org": DomainFacts(
            "ours.org",
            backlinks={"a.com": 1, "us.com": 1},
            targets={"a.com": ("https://a.com/tool",)},
        ),
    }
    rows = list(compute_gap(facts.values(), SETTINGS))
    tally = AssetTally(SETTINGS.competitors)
    for row in rows:
        tally.add(row, facts[row.domain])
    assets = tally.assets()
    guide, tool = assets["a.com"]
    assert (guide.url, guide.gap_domains, guide.sample, guide.broken) == (
        "https://a.com/guide/",
        2,
        ("two.org", "one.org"),
        1,
    )
    assert (tool.url, tool.gap_domains) == ("https://a.com/tool", 1)  # ours.org is not in the gap
    assert assets["b.com"] == []
