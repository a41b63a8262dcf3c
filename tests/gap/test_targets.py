from __future__ import annotations

from crm.gap.linktype import LinkType
from crm.gap.targets import TargetPage, suggest_angle, suggest_target
from tests.builtins import builtin_sequences

PAGES = [
    TargetPage("https://us.com/", "Home", "other"),
    TargetPage("https://us.com/kanban-guide", "The complete kanban guide", "guide", ("kanban",)),
    TargetPage("https://us.com/agile-guide", "Agile guide", "guide", ("agile", "scrum")),
    TargetPage("https://us.com/best-tools", "Best tools list", "list"),
    TargetPage("https://us.com/planner", "Free planner tool", "tool"),
    TargetPage("https://us.com/state-of-pm-2026", "State of PM 2026 survey data", "data"),
    TargetPage("https://us.com/asana-vs-us", "Asana vs Us", "comparison"),
]


def test_each_link_type_maps_to_its_kind_of_page() -> None:
    expected = {
        LinkType.RESOURCE: "https://us.com/kanban-guide",
        LinkType.ROUNDUP: "https://us.com/best-tools",
        LinkType.EDITORIAL: "https://us.com/state-of-pm-2026",
        LinkType.COMPARISON: "https://us.com/asana-vs-us",
    }
    for link_type, url in expected.items():
        suggestion = suggest_target(link_type, [], PAGES)
        assert suggestion is not None and suggestion.value == url, link_type


def test_topic_words_choose_among_pages_of_the_right_kind() -> None:
    suggestion = suggest_target(LinkType.RESOURCE, ["Scrum resources for agile teams"], PAGES)
    assert suggestion is not None and suggestion.value == "https://us.com/agile-guide"
    assert "topic word" in suggestion.reason


def test_the_home_page_is_never_suggested_by_default() -> None:
    home_only = [PAGES[0]]
    assert suggest_target(LinkType.RESOURCE, [], home_only) is None
    allowed = suggest_target(LinkType.RESOURCE, [], home_only, allow_home=True)
    assert allowed is not None and allowed.value == "https://us.com/"


def test_without_a_preferred_kind_the_closest_page_is_taken() -> None:
    suggestion = suggest_target(LinkType.COMPARISON, ["planner"], [PAGES[4], PAGES[1]])
    assert suggestion is not None and suggestion.value == "https://us.com/planner"


def test_angles_follow_link_type_and_evidence() -> None:
    assert suggest_angle(LinkType.ROUNDUP).value == "roundup-inclusion"
    assert suggest_angle(LinkType.RESOURCE).value == "resource-replacement"
    assert suggest_angle(LinkType.GUEST_POST).value == "guest-post"
    assert suggest_angle(LinkType.EDITORIAL, broken=True).value == "broken-link"
    assert suggest_angle(LinkType.OTHER, mentions_us=True).value == "unlinked-mention"
    assert suggest_angle(LinkType.OTHER, outdated_target=True).value == "skyscraper"


def test_every_suggested_angle_is_a_built_in_angle() -> None:
    slugs = {a.slug for a in builtin_sequences().BUILTIN_ANGLES}
    for link_type in LinkType:
        assert suggest_angle(link_type).value in slugs
    for flag in ("broken", "mentions_us", "outdated_target"):
        assert suggest_angle(LinkType.OTHER, **{flag: True}).value in slugs
