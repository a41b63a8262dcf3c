from __future__ import annotations

import pytest

from crm.gap.compute import (
    GapSettings,
    authority_band,
    classify,
    compute_gap,
    tier_for,
)
from crm.gap.facts import DomainFacts

SETTINGS = GapSettings(site="us.com", competitors=("a.com", "b.com", "c.com"))


def fact(domain: str = "x.org", authority: float | None = 40.0, **backlinks: int) -> DomainFacts:
    sites = {k.replace("_", "."): v for k, v in backlinks.items()}
    return DomainFacts(domain, backlinks=sites, authority=authority)


def test_linking_to_every_competitor_and_not_us_is_best_strong_tier_1() -> None:
    row = classify(fact(a_com=2, b_com=1, c_com=5), SETTINGS)
    assert row.is_gap and not row.links_to_us and row.overlap == 3 and row.tier == 1
    assert row.categories == ("best", "strong")
    assert row.competitors == ("a.com", "b.com", "c.com")
    assert row.backlinks == {"a.com": 2, "b.com": 1, "c.com": 5}


def test_two_competitors_is_tier_2_and_one_is_tier_3_and_unique() -> None:
    two = classify(fact(a_com=1, c_com=1), SETTINGS)
    one = classify(fact(b_com=4), SETTINGS)
    assert (two.tier, two.categories) == (2, ("strong",))
    assert (one.tier, one.categories) == (3, ("strong", "unique"))


def test_linking_to_us_with_fewer_backlinks_than_to_a_competitor_is_weak() -> None:
    row = classify(fact(us_com=1, a_com=3), SETTINGS)
    assert row.links_to_us and not row.is_gap and row.tier is None
    assert row.categories == ("weak",)


def test_linking_to_us_and_every_competitor_is_shared() -> None:
    row = classify(fact(us_com=9, a_com=1, b_com=1, c_com=1), SETTINGS)
    assert row.categories == ("shared",)


def test_linking_only_to_us_is_unique_and_not_a_gap() -> None:
    row = classify(fact(us_com=2), SETTINGS)
    assert row.categories == ("unique",) and not row.is_gap and row.overlap == 0


def test_minimum_overlap_n_narrows_the_gap() -> None:
    strict = GapSettings("us.com", ("a.com", "b.com", "c.com"), min_overlap=2)
    assert not classify(fact(a_com=1), strict).is_gap
    assert classify(fact(a_com=1, b_com=1), strict).is_gap


def test_a_single_competitor_campaign_puts_its_gap_in_tier_1() -> None:
    settings = GapSettings("us.com", ("a.com",))
    assert classify(fact(a_com=1), settings).tier == 1
    assert tier_for(0, 3) is None and tier_for(5, 3) == 1


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        GapSettings("us.com", ("a.com",), min_overlap=0)
    with pytest.raises(ValueError):
        GapSettings("us.com", ("us.com",))


@pytest.mark.parametrize(
    ("authority", "band"),
    [
        (None, None),
        (0, "0-29"),
        (29.9, "0-29"),
        (30, "30-49"),
        (49.5, "30-49"),
        (50, "50-69"),
        (69.99, "50-69"),
        (70, "70+"),
        (100, "70+"),
    ],
)
def test_authority_bands(authority: float | None, band: str | None) -> None:
    assert authority_band(authority) == band
    assert classify(fact(authority=authority, a_com=1), SETTINGS).authority_band == band


def test_compute_gap_skips_domains_linking_to_no_campaign_site_and_flags_missing_export() -> None:
    facts = [fact("one.org", a_com=1), fact("other.org", z_com=3), fact("mine.org", us_com=1)]
    rows = list(compute_gap(facts, SETTINGS, our_export_present=False))
    assert [r.domain for r in rows] == ["one.org", "mine.org"]
    assert all(not r.our_export_present for r in rows)
