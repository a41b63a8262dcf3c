"""Signing in and out, throttling, CSRF and who sees which campaign."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD, UserFactory


def test_anonymous_visitor_is_sent_to_sign_in_with_the_page_to_return_to(client: Any) -> None:
    response = client.get("/campaigns")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/campaigns")


def test_signing_in_lands_on_the_page_asked_for(client: Any, team: dict[str, Any]) -> None:
    token = client.csrf_token("/login")
    response = client.post(
        "/login?next=/settings",
        data={"csrf_token": token, "email": "manager@linkgap.example", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings"


def test_next_pointing_off_site_is_ignored(client: Any, team: dict[str, Any]) -> None:
    token = client.csrf_token("/login")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"csrf_token": token, "email": "manager@linkgap.example", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_wrong_password_shows_an_error_next_to_the_field(client: Any, team: dict[str, Any]) -> None:
    response = client.post_form("/login", {"email": "admin@linkgap.example", "password": "nope"})
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_email_is_matched_case_insensitively(client: Any, team: dict[str, Any]) -> None:
    client.login("Admin@LinkGap.example")


def test_eleventh_failed_attempt_in_a_minute_gets_429(client: Any, team: dict[str, Any]) -> None:
    token = client.csrf_token("/login")
    bad = {"csrf_token": token, "email": "admin@linkgap.example", "password": "wrong"}
    statuses = [client.post("/login", data=bad).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


def test_successful_sign_ins_do_not_count_toward_the_limit(
    client: Any, team: dict[str, Any]
) -> None:
    for _ in range(12):
        client.login("admin@linkgap.example")
        client.post_form("/logout", page="/settings")


def test_post_without_csrf_token_gets_400(client: Any, team: dict[str, Any]) -> None:
    client.login("manager@linkgap.example")
    response = client.post("/campaigns/new", data={"name": "x", "site": "a.com"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client: Any, team: dict[str, Any]) -> None:
    response = client.login("admin@linkgap.example")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_deactivated_user_cannot_sign_in(client: Any, db: Any) -> None:
    UserFactory(email="gone@linkgap.example", active=False)
    db.session.commit()
    response = client.post_form("/login", {"email": "gone@linkgap.example", "password": PASSWORD})
    assert response.status_code == 401


def test_sign_out_ends_the_session(client: Any, team: dict[str, Any]) -> None:
    client.login("admin@linkgap.example")
    client.post_form("/logout", page="/settings")
    assert client.get("/campaigns").status_code == 302


def test_specialist_sees_only_campaigns_they_are_a_member_of(
    client: Any, team: dict[str, Any]
) -> None:
    client.login("specialist@linkgap.example")
    html = client.get("/campaigns").get_data(as_text=True)
    assert "Mine" in html
    assert "Other" not in html


def test_manager_sees_every_campaign(client: Any, team: dict[str, Any]) -> None:
    client.login("manager@linkgap.example")
    html = client.get("/campaigns").get_data(as_text=True)
    assert "Mine" in html and "Other" in html


def test_pages_carry_security_headers(client: Any) -> None:
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_unknown_page_gets_the_styled_404(client: Any, team: dict[str, Any]) -> None:
    client.login("admin@linkgap.example")
    response = client.get("/campaigns/99999")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
