"""The transport's quoting of MAIL FROM / RCPT TO addresses matches smtplib.quoteaddr."""

from __future__ import annotations

import smtplib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.mail.smtp import quote_envelope_address

_TRICKY = [
    "sarah@pmtoolsreview.com",
    "élodie@example.com",
    "o'brien+tag@sub.example.co.uk",
    "a.b.c@x-y.example",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@example..com",
    "a@.example.com",
    "a@example.com.",
    "a@[127.0.0.1]",
    '"quoted local"@example.com',
    '"a"@example.com',
    "Sarah <sarah@example.com>",
    "<sarah@example.com>",
    "sarah(comment)@example.com",
    "sarah@example.com (comment)",
    "no-at-sign",
    "",
    "@example.com",
    "a@",
    "a@b@c",
    "a,b@example.com",
    "a;b@example.com",
    "a:b@example.com",
    "a\\b@example.com",
    "a@exa_mple.com",
    "{}|~`!#$%&'*+/=?^_-@example.com",
]


@pytest.mark.parametrize("address", _TRICKY)
def test_same_as_quoteaddr_on_tricky_addresses(address: str) -> None:
    assert quote_envelope_address(address) == smtplib.quoteaddr(address)


_CHARS = st.sampled_from(list("aZ09.-_+@'\"<>()[],;:\\ é!#$%&*/=?^`{|}~"))


@settings(max_examples=2000, deadline=None)
@given(st.lists(_CHARS, max_size=24).map("".join))
def test_same_as_quoteaddr(address: str) -> None:
    assert quote_envelope_address(address) == smtplib.quoteaddr(address)
