from __future__ import annotations

import pytest

from crm.gap.exports import Evidence
from crm.gap.linktype import (
    LinkType,
    broken_links,
    detect_link_type,
    domain_link_type,
)


@pytest.mark.parametrize(
    ("url", "title", "expected"),
    [
        ("https://site.org/resources/", "Helpful links", LinkType.RESOURCE),
        ("https://site.org/p/42", "Useful links for agile teams", LinkType.RESOURCE),
        ("https://mag.com/best-kanban-tools/", "Some title", LinkType.ROUNDUP),
        ("https://mag.com/p/1", "15 best project management apps", LinkType.ROUNDUP),
        ("https://mag.com/asana-vs-trello", None, LinkType.COMPARISON),
        ("https://mag.com/p/2", "Trello alternatives to try", LinkType.COMPARISON),
        ("https://blog.com/guest-post/remote-teams", None, LinkType.GUEST_POST),
        ("https://dir.net/business/acme-ltd", "Acme Ltd", LinkType.DIRECTORY),
        ("https://forum.net/t/123", "Foro de proyectos", LinkType.FORUM),
        ("https://blog.com/post?replytocom=9", None, LinkType.FORUM),
        ("https://site.com/users/jane", None, LinkType.PROFILE),
        ("https://news.com/2026/03/launch-story", "Startup raises money", LinkType.EDITORIAL),
        ("https://site.com/p/1", "Kanban checklist", LinkType.OTHER),
    ],
)
def test_link_type_from_url_and_title(url: str, title: str | None, expected: LinkType) -> None:
    guess = detect_link_type(url, title)
    assert guess.link_type is expected
    assert guess.evidence


def test_the_tools_page_type_beats_the_url() -> None:
    guess = detect_link_type("https://x.com/2026/01/post", "Post", "Article > Listicle")
    assert guess.link_type is LinkType.ROUNDUP and guess.source == "page type"
    assert 'page type "Article > Listicle"' in guess.evidence


def test_a_generic_article_page_type_does_not_hide_a_telling_url() -> None:
    assert detect_link_type("https://x.com/asana-vs-jira", None, "Article").link_type is (
        LinkType.COMPARISON
    )
    assert detect_link_type("https://x.com/p/9", None, "Article").link_type is LinkType.EDITORIAL


def test_the_url_is_trusted_before_the_title() -> None:
    guess = detect_link_type("https://x.com/resources/", "Forum of resources")
    assert guess.link_type is LinkType.RESOURCE and guess.source == "url"


def page(url: str, title: str | None = None, **kw: object) -> Evidence:
    return Evidence(page_url=url, title=title, **kw)  # type: ignore[arg-type]


def test_a_domain_takes_its_most_common_type() -> None:
    guess = domain_link_type(
        [
            page("https://x.com/best-tools"),
            page("https://x.com/top-10-apps"),
            page("https://x.com/resources/"),
            page("https://x.com/p/1"),
        ]
    )
    assert guess.link_type is LinkType.ROUNDUP and guess.evidence.startswith("2 of 4 pages")


def test_a_tie_goes_to_the_type_easiest_to_pitch() -> None:
    guess = domain_link_type([page("https://x.com/forum/1"), page("https://x.com/resources/")])
    assert guess.link_type is LinkType.RESOURCE
    assert domain_link_type([]).link_type is LinkType.OTHER


def test_broken_link_opportunities_are_lost_links_or_dead_targets() -> None:
    evidence = {
        "a.com": (
            page("https://x.com/1", target_url="https://a.com/gone", lost="removed"),
            page("https://x.com/2", target_url="https://a.com/dead"),
            page("https://x.com/3", target_url="https://a.com/ok"),
        ),
        "us.com": (page("https://x.com/4", target_url="https://us.com/", lost="removed"),),
    }
    found = broken_links(evidence, ["a.com"], {"https://a.com/dead": 404, "https://a.com/ok": 200})
    assert [(b.page_url, b.reason) for b in found] == [
        ("https://x.com/1", "the link is lost (removed)"),
        ("https://x.com/2", "the target answered 404"),
    ]


def test_every_type_the_page_words_name_is_a_link_type() -> None:
    from crm.gap.page_rules import LINK_TYPE_WORDS, TOOL_PAGE_TYPES

    named = {kind for kind, _, _ in LINK_TYPE_WORDS} | {kind for _, kind in TOOL_PAGE_TYPES}
    assert named <= {t.value for t in LinkType} - {LinkType.OTHER.value}
