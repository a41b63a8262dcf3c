from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.core import domains
from crm.core.domains import DomainError, host_of, is_ip, registrable_domain, same_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("www.example.com", "example.com"),
        ("WWW.Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("https://www.example.com:8443/path?q=1#x", "example.com"),
        ("http://user:secret@blog.example.com/", "example.com"),
        ("//cdn.example.com/lib.js", "example.com"),
        ("shop.example.co.uk", "example.co.uk"),
        ("www.example.co.uk.", "example.co.uk"),
        ("a.b.news.com.au", "news.com.au"),
        ("someone.blogspot.com", "someone.blogspot.com"),
        ("www.someone.blogspot.com", "someone.blogspot.com"),
        ("user.github.io", "user.github.io"),
        ("docs.user.github.io", "user.github.io"),
        ("my_site.example.com", "example.com"),
    ],
)
def test_host_is_folded_to_its_registrable_domain(raw: str, expected: str) -> None:
    assert registrable_domain(raw) == expected


def test_unicode_and_punycode_spellings_are_the_same_domain() -> None:
    assert registrable_domain("Bücher.de") == "bücher.de"
    assert registrable_domain("xn--bcher-kva.de") == "bücher.de"
    assert registrable_domain("https://www.XN--BCHER-KVA.de/x") == "bücher.de"
    assert same_domain("straße.de", "xn--strae-oqa.de")


def test_names_idna_2008_refuses_still_fold_both_spellings_together() -> None:
    assert registrable_domain("i❤.ws") == registrable_domain("xn--i-7iq.ws") == "i❤.ws"


def test_ip_addresses_are_kept_as_they_are() -> None:
    assert registrable_domain("http://192.0.2.7:8080/page") == "192.0.2.7"
    assert registrable_domain("http://[2001:DB8::1]/") == "2001:db8::1"
    assert is_ip("192.0.2.7") and is_ip("2001:db8::1") and not is_ip("example.com")


def test_a_multi_label_public_suffix_is_its_own_domain() -> None:
    assert registrable_domain("blogspot.com") == "blogspot.com"
    assert registrable_domain("co.uk") == "co.uk"


def test_host_of_keeps_subdomains_and_www() -> None:
    assert host_of("https://WWW.Blog.Example.com.:80/x") == "www.blog.example.com"


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "localhost",
        "com",
        "http://",
        "javascript:void(0)",
        "a b.com",
        "exa mple",
        "-",
        "http://x..com/",
        "http://[::1",
        "bad_label-.com:port",
    ],
)
def test_junk_raises_domain_error(junk: str) -> None:
    with pytest.raises(DomainError):
        registrable_domain(junk)


def test_domain_error_is_a_value_error() -> None:
    assert issubclass(DomainError, ValueError)


_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-") and not s.endswith("-") and "--" not in s
)
_suffixes = st.sampled_from(
    [
        "com",
        "co.uk",
        "com.au",
        "blogspot.com",
        "github.io",
        "kawasaki.jp",
        "city.kawasaki.jp",
        "ck",
        "www.ck",
        "s3.amazonaws.com",
        "compute.amazonaws.com",
        "uk.com",
        "de",
        "example",
        "pvt.k12.ma.us",
        "xyz",
        "app",
        "рф",
        "公司.cn",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_label, min_size=0, max_size=4), _suffixes)
def test_registrable_domain_agrees_with_the_public_suffix_list(
    labels: list[str], suffix: str
) -> None:
    host = ".".join([*labels, suffix])
    expected = domains._psl().privatesuffix(host)
    if expected is None:
        if "." not in host:
            return
        expected = host[4:] if host.startswith("www.") and host.count(".") >= 2 else host
    assert registrable_domain(host) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_folds_or_raises_domain_error(text: str) -> None:
    try:
        result = registrable_domain(text)
    except DomainError:
        return
    assert result and result == result.lower() and not result.endswith(".")
