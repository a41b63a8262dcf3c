"""URL normalisation and the source/target URL rules, table-driven."""

from __future__ import annotations

import pytest

from crm.core.errors import UserError
from crm.links.urls import clean_page_url, link_key, on_domain, same_page

TARGET = "https://www.acme.com/guides/kanban"


@pytest.mark.parametrize(
    ("href", "base", "same"),
    [
        ("https://www.acme.com/guides/kanban", None, True),
        ("http://acme.com/guides/kanban", None, True),  # scheme and www
        ("https://ACME.com/guides/kanban/", None, True),  # host case, trailing slash
        ("https://acme.com:443/guides/kanban", None, True),  # default port
        ("https://acme.com:8443/guides/kanban", None, False),  # another port
        ("https://acme.com/guides/kanban#how", None, True),  # fragment
        ("https://acme.com/guides/kanban?utm_source=x&utm_medium=y", None, True),
        ("https://acme.com/guides/kanban?page=2", None, False),  # a real query
        ("https://acme.com/guides/%6Banban", None, True),  # encoded unreserved char
        ("https://acme.com/guides/./x/../kanban", None, True),  # dot segments
        ("https://acme.com/Guides/Kanban", None, False),  # path case matters
        ("kanban", "https://www.acme.com/guides/", True),  # relative
        ("../guides/kanban/", "https://acme.com/blog/post", True),
        ("/guides/kanban", "http://acme.com/x", True),
        ("//www.acme.com/guides/kanban", "http://blog.example/", True),
        (" \thttps://acme.com/guides/\nkanban ", None, True),  # whitespace browsers drop
        ("mailto:ana@acme.com", None, False),
        ("javascript:void(0)", None, False),
        ("https://acme.com.evil.example/guides/kanban", None, False),
        ("https://sub.acme.com/guides/kanban", None, False),  # another host
        ("https://xn--bcher-kva.de/a", None, False),
    ],
)
def test_link_key_says_when_two_urls_name_the_same_page(
    href: str, base: str | None, same: bool
) -> None:
    assert (link_key(href, base) == link_key(TARGET)) is same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://xn--bcher-kva.de/a", "http://www.Bücher.de/a/"),
        ("http://[::1]:8080/x", "http://[0:0::1]:8080/x/"),
        ("https://acme.com/?b=2&a=1", "https://acme.com?a=1&b=2"),
    ],
)
def test_equivalent_spellings_fold_together(a: str, b: str) -> None:
    assert same_page(a, b)


@pytest.mark.parametrize("junk", ["", "not a url", "http://", "ftp://acme.com/x", "https://a b/"])
def test_junk_has_no_key(junk: str) -> None:
    assert link_key(junk) is None


@pytest.mark.parametrize(
    ("url", "domain", "expected"),
    [
        ("https://blog.example/post", "blog.example", True),
        ("https://www.blog.example/post", "blog.example", True),
        ("https://news.blog.example/post", "blog.example", True),
        ("https://blog.example.evil.com/post", "blog.example", False),
        ("https://someone.blogspot.com/p", "blogspot.com", False),  # a private suffix
        ("https://someone.blogspot.com/p", "someone.blogspot.com", True),
        ("https://notblog.example/p", "blog.example", False),
    ],
)
def test_on_domain_accepts_the_domain_and_its_subdomains(
    url: str, domain: str, expected: bool
) -> None:
    assert on_domain(url, domain) is expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "enter the page's URL"),
        ("blog.example/post", "write it in full"),
        ("ftp://blog.example/post", "only http and https"),
        ("javascript:alert(1)", "not a URL"),
        ("https://blog example/post", "has spaces"),
        ("https://blog.example:99999/", "not a URL"),
        ("https://" + "a" * 2100 + ".com/", "longer than"),
        ("https://-bad-.example/", "no valid host name"),
    ],
)
def test_bad_page_urls_are_refused_with_the_field_named(value: str, words: str) -> None:
    with pytest.raises(UserError) as err:
        clean_page_url(value, "source_url", "source URL")
    assert err.value.field == "source_url"
    assert err.value.message.startswith("source URL: ") and words in err.value.message


def test_a_clean_url_loses_its_fragment_and_keeps_the_rest() -> None:
    assert clean_page_url(" HTTPS://Blog.example/Post?a=1#c ", "f", "l") == (
        "https://Blog.example/Post?a=1"
    )
