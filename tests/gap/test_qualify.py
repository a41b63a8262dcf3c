from __future__ import annotations

import pytest

from crm.gap.exports import Evidence
from crm.gap.facts import DomainFacts
from crm.gap.qualify import (
    UNWINNABLE_REASONS,
    CampaignFilters,
    ExclusionRules,
    filter_exclusion,
    first_exclusion,
    rule_exclusion,
    unwinnable,
)

RULES = ExclusionRules.build(
    excluded_tlds=[".ru", "CN"], languages=["en-GB", "de"], blocklist=["Partner.com"]
)


def facts(
    domain: str = "site.com", pages: tuple[str, ...] = ("https://site.com/post",), **kw: object
) -> DomainFacts:
    evidence = {"rival.com": tuple(Evidence(page_url=u, title="A post") for u in pages)}
    return DomainFacts(domain, backlinks={"rival.com": 1}, evidence=evidence, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fact", "code"),
    [
        (facts("partner.com"), "blocklist"),
        (facts("blog.partner.com"), "blocklist"),
        (facts(spam=True), "spam"),
        (facts("site.ru"), "tld"),
        (facts(language="fr"), "language"),
        (facts(pages=("https://dir.site.com/directory/acme",)), "directory"),
        (facts("prweb.com"), "press_release"),
        (facts(pages=("https://site.com/press-release/launch",)), "press_release"),
        (facts(pages=("https://site.com/blogroll",)), "blogroll"),
        (facts(paid_or_ugc_only=True), "paid_or_ugc"),
    ],
)
def test_each_rule_hides_with_its_code_and_a_reason(fact: DomainFacts, code: str) -> None:
    hidden = rule_exclusion(fact, RULES)
    assert hidden is not None and hidden.code == code and hidden.reason


def test_an_allowed_language_with_a_region_passes() -> None:
    assert rule_exclusion(facts(language="EN-us"), RULES) is None
    assert rule_exclusion(facts(language=None), RULES) is None


def test_one_directory_page_on_an_editorial_site_does_not_hide_it() -> None:
    mixed = facts(pages=("https://site.com/directory/acme", "https://site.com/2026/01/story"))
    assert rule_exclusion(mixed, RULES) is None


def test_rules_can_be_switched_off() -> None:
    lenient = ExclusionRules(spam=False, paid_or_ugc_only=False)
    assert rule_exclusion(facts(spam=True, paid_or_ugc_only=True), lenient) is None


def test_the_first_matching_rule_wins_in_a_fixed_order() -> None:
    hidden = rule_exclusion(facts("shop.partner.com", spam=True, language="fr"), RULES)
    assert hidden is not None and hidden.code == "blocklist"


@pytest.mark.parametrize(
    ("kw", "overlap", "filters", "code", "reason"),
    [
        ({}, 1, CampaignFilters(min_overlap=2), "min_overlap", "links to 1 competitor(s)"),
        (
            {"authority": 20.0},
            1,
            CampaignFilters(min_authority=50),
            "min_authority",
            "authority 20 is below 50",
        ),
        ({}, 1, CampaignFilters(min_authority=50), "min_authority", "authority unknown"),
        (
            {"traffic": 900},
            1,
            CampaignFilters(min_traffic=1000),
            "min_traffic",
            "traffic 900 is below 1,000",
        ),
        (
            {"dofollow": False},
            1,
            CampaignFilters(dofollow_only=True),
            "dofollow_only",
            "all its links are nofollow",
        ),
        ({}, 1, CampaignFilters(dofollow_only=True), "dofollow_only", "no export says"),
    ],
)
def test_campaign_filters_explain_what_failed(
    kw: dict[str, object], overlap: int, filters: CampaignFilters, code: str, reason: str
) -> None:
    hidden = filter_exclusion(facts(**kw), overlap, filters)
    assert hidden is not None and hidden.code == code and reason in hidden.reason


def test_a_prospect_passing_everything_is_shown() -> None:
    good = facts(authority=60.0, traffic=5000, dofollow=True, language="en")
    filters = CampaignFilters(min_overlap=1, min_authority=50, min_traffic=1000, dofollow_only=True)
    assert first_exclusion(good, 2, filters, RULES) is None


def test_rules_come_before_filters() -> None:
    hidden = first_exclusion(facts(spam=True), 0, CampaignFilters(min_overlap=2), RULES)
    assert hidden is not None and hidden.code == "spam"


def test_unwinnable_reasons_are_known_constants() -> None:
    assert set(UNWINNABLE_REASONS) == {
        "news_coverage",
        "partner_customer",
        "paid_placement",
        "personal_network",
    }
    mark = unwinnable("paid_placement", "they asked $300")
    assert mark.code == "unwinnable" and "paid placement" in mark.reason and "$300" in mark.reason
    with pytest.raises(ValueError, match=r"unknown unwinnable reason"):
        unwinnable("because")
