"""Signed one-click unsubscribe tokens and URLs."""

from __future__ import annotations

import pytest

from crm.mail.unsubscribe import (
    InvalidUnsubscribeToken,
    UnsubscribeRequest,
    make_unsubscribe_token,
    read_unsubscribe_token,
    unsubscribe_mailto,
    unsubscribe_url,
)

SECRET = "test-secret-key"


def test_token_round_trips_the_address_and_touch() -> None:
    token = make_unsubscribe_token(SECRET, "sarah@pmtoolsreview.com", 1234)
    assert read_unsubscribe_token(SECRET, token) == UnsubscribeRequest(
        "sarah@pmtoolsreview.com", 1234
    )


def test_token_is_url_safe_and_short_enough_for_a_header() -> None:
    token = make_unsubscribe_token(SECRET, "sarah.lee+outreach@pmtoolsreview.com", 987654321)
    assert all(c.isalnum() or c in "-_." for c in token)
    assert len(token) < 120


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "X" + t[1:],
        lambda t: t.split(".")[0],
        lambda t: "",
        lambda t: "not a token at all",
    ],
)
def test_tampered_tokens_are_invalid(tamper: object) -> None:
    token = make_unsubscribe_token(SECRET, "sarah@pmtoolsreview.com", 1)
    with pytest.raises(InvalidUnsubscribeToken):
        read_unsubscribe_token(SECRET, tamper(token))  # type: ignore[operator]


def test_a_token_made_with_another_secret_is_invalid() -> None:
    token = make_unsubscribe_token("another-secret", "sarah@pmtoolsreview.com", 1)
    with pytest.raises(InvalidUnsubscribeToken):
        read_unsubscribe_token(SECRET, token)


def test_a_rotated_secret_still_reads_old_tokens() -> None:
    old = make_unsubscribe_token("old-secret", "sarah@pmtoolsreview.com", 7)
    assert read_unsubscribe_token(["old-secret", SECRET], old).touch_id == 7
    new = make_unsubscribe_token(["old-secret", SECRET], "sarah@pmtoolsreview.com", 8)
    assert read_unsubscribe_token(SECRET, new).touch_id == 8


def test_the_secret_must_not_be_empty() -> None:
    with pytest.raises(ValueError):
        make_unsubscribe_token("", "sarah@pmtoolsreview.com", 1)


def test_unsubscribe_url_is_under_the_base_url() -> None:
    assert unsubscribe_url("https://crm.example.com/", "abc.DEF") == (
        "https://crm.example.com/u/abc.DEF"
    )
    with pytest.raises(ValueError):
        unsubscribe_url("crm.example.com", "abc")
    assert unsubscribe_mailto("alex@example-planner.com") == (
        "mailto:alex@example-planner.com?subject=unsubscribe"
    )


@pytest.mark.parametrize(
    ("secret", "email", "touch_id"),
    [
        ("s3cret", "sarah@pmtoolsreview.com", 42),
        (b"bytes-secret", "élodie@example.com", "t-7"),
        (["old-secret", "new-secret"], "o'brien+x@sub.example.co.uk", None),
        ("s3cret", "a" * 200 + "@example.com", 10**12),
    ],
)
def test_tokens_are_the_ones_itsdangerous_makes(
    secret: object, email: str, touch_id: object
) -> None:
    from itsdangerous import URLSafeSerializer

    keys = [secret] if isinstance(secret, str | bytes) else secret
    plain = URLSafeSerializer(keys, salt="linkgap.unsubscribe.v1")
    for _ in range(2):  # the kept signer gives the same token again
        token = make_unsubscribe_token(secret, email, touch_id)  # type: ignore[arg-type]
        assert token == plain.dumps([email, touch_id])
        assert plain.loads(token) == [email, touch_id]
