from __future__ import annotations

import pytest

from crm.gap.linktype import LinkType
from crm.gap.scoring import (
    ScoreWeights,
    authority_part,
    feasibility_part,
    relevance_part,
    score,
    total_of,
)


def test_authority_is_dr_over_100_and_unknown_is_low() -> None:
    assert authority_part(58).value == pytest.approx(0.58)
    assert authority_part(58).explanation == "authority 58 of 100"
    assert authority_part(None).value == 0.2


def test_relevance_counts_topic_keywords_in_titles_and_urls() -> None:
    texts = ["Best Kanban tools in 2026", "https://mag.com/agile-planning/"]
    part = relevance_part(["kanban", "agile", "gantt"], texts)
    assert part.value == pytest.approx(2 / 3) and part.explanation == "mentions kanban, agile"
    assert relevance_part(["kanban"], texts).value == 1.0


def test_relevance_ignores_case_and_accents() -> None:
    assert relevance_part(["Café"], ["best CAFE guide"]).value == 1.0


def test_relevance_without_a_match_or_keywords() -> None:
    assert relevance_part(["kanban"], ["Cooking at home"]).value == 0.0
    assert relevance_part([], ["anything"]).value == 0.5


def test_a_manual_rating_replaces_relevance() -> None:
    part = relevance_part(["kanban"], ["nothing"], manual=4)
    assert part.value == 0.75 and part.explanation == "rated 4 of 5 by hand"
    with pytest.raises(ValueError):
        relevance_part([], [], manual=6)


def test_feasibility_weighs_link_type_overlap_and_a_contact() -> None:
    resource = feasibility_part(LinkType.RESOURCE, 3, 3, contactable=True)
    profile = feasibility_part(LinkType.PROFILE, 1, 3, contactable=False)
    assert resource.value > profile.value
    assert resource.explanation == (
        "resource page, links to 3 of 3 competitors, a contact is known"
    )
    assert 0.0 <= profile.value <= 1.0


def test_total_is_the_normalised_weighted_sum() -> None:
    parts = (
        authority_part(50),
        relevance_part(["x"], ["x"]),
        feasibility_part(LinkType.OTHER, 0, 3),
    )
    weights = ScoreWeights(authority=2, relevance=1, feasibility=1)
    expected = (0.5 * 2 + 1.0 * 1 + parts[2].value * 1) / 4
    assert total_of(*parts, weights=weights) == round(expected, 3)


def test_weights_cannot_be_negative_or_all_zero() -> None:
    with pytest.raises(ValueError):
        ScoreWeights(authority=-1)
    with pytest.raises(ValueError):
        ScoreWeights(0, 0, 0)


def test_score_explains_every_part() -> None:
    result = score(
        authority=70,
        keywords=["kanban"],
        texts=["Kanban guide"],
        link_type=LinkType.ROUNDUP,
        overlap=2,
        competitor_count=4,
    )
    assert 0 < result.total <= 1
    assert "authority 0.70" in result.explanation and "relevance 1.00" in result.explanation
