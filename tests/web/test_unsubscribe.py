"""The one-click unsubscribe endpoint: GET confirms and changes nothing, POST suppresses at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from crm.core.suppression import is_suppressed
from crm.extensions import db
from crm.mail.unsubscribe import make_unsubscribe_token
from crm.models import Enrollment
from crm.outreach.enrollment import enroll
from tests.outreach.factories import make_campaign, make_mailbox, make_prospects

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
ADDRESS = "editor@site0.example"


@pytest.fixture
def enrolled(db: Any) -> list[Enrollment]:
    make_mailbox(None)
    first, _ = make_campaign("First")
    second, target = make_campaign("Second")
    ours = make_prospects(first, target, 1)
    theirs = make_prospects(second, target, 1, prefix="other")
    enrollments = enroll(ours + theirs, angle="resource replacement", now=NOW).enrolled
    # The same person turned up as a contact of a prospect in another campaign.
    theirs[0].contacts[0].email = ADDRESS
    db.session.commit()
    assert len(enrollments) == 2
    return enrollments


def _url(enrollment: Enrollment) -> str:
    token = make_unsubscribe_token("test-secret-key", ADDRESS, enrollment.touches[0].id)
    return f"/u/{token}"


def test_get_shows_a_confirmation_and_changes_nothing(
    client: Any, enrolled: list[Enrollment]
) -> None:
    response = client.get(_url(enrolled[0]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Stop all emails from us to <strong>{ADDRESS}</strong>?" in page
    assert '<form method="post">' in page
    assert "Set-Cookie" not in response.headers
    assert not is_suppressed(ADDRESS)
    assert {e.state.value for e in enrolled} == {"active"}


def test_a_one_click_post_without_cookies_or_csrf_suppresses_and_stops_every_sequence(
    app: Flask, enrolled: list[Enrollment]
) -> None:
    anonymous = app.test_client(use_cookies=False)
    response = anonymous.post(
        _url(enrolled[0]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert is_suppressed(ADDRESS)
    db.session.expire_all()
    for enrollment in enrolled:
        stopped = db.session.get(Enrollment, enrollment.id)
        assert stopped.state.value == "stopped" and stopped.stop_reason.value == "unsubscribed"
        assert {t.state.value for t in stopped.touches} == {"cancelled"}
    notes = [t.summary for t in enrolled[0].prospect.touchpoints]
    assert any(f"{ADDRESS} unsubscribed with the link in touch 1" in n for n in notes)

    again = anonymous.post(_url(enrolled[0]))
    assert again.status_code == 200, "unsubscribing twice is fine"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_gets_a_friendly_400_and_changes_nothing(
    app: Flask, enrolled: list[Enrollment], method: str
) -> None:
    url = _url(enrolled[0])
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    response = getattr(app.test_client(use_cookies=False), method)(tampered)
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)
    assert not is_suppressed(ADDRESS)
