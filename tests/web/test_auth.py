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


# --- sessions that can be revoked ------------------------------------------------------


def _cookies(client: Any) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def _replay(app: Any, cookies: dict[str, str]) -> int:
    """Request a page with copied cookies, like someone who stole them."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    # A fresh app context, as a real request has: nothing cached from earlier requests.
    with app.app_context():
        return int(other.get("/campaigns").status_code)


def test_a_copied_session_cookie_stops_working_after_sign_out(
    app: Any, client: Any, team: dict[str, Any]
) -> None:
    client.login("admin@linkgap.example")
    stolen = _cookies(client)
    assert _replay(app, stolen) == 200
    client.post_form("/logout", page="/settings")
    assert _replay(app, stolen) == 302


def test_a_remember_me_token_stops_working_after_a_password_change(
    app: Any, client: Any, db: Any, team: dict[str, Any]
) -> None:
    client.post_form(
        "/login", {"email": "specialist@linkgap.example", "password": PASSWORD, "remember": "y"}
    )
    remember = {k: v for k, v in _cookies(client).items() if k == "remember_token"}
    assert remember, "signing in with 'keep me signed in' sets the remember cookie"
    assert _replay(app, remember) == 200
    team["specialist"].set_password("a-brand-new-password")
    db.session.commit()
    assert _replay(app, remember) == 302
    assert _replay(app, _cookies(client)) == 302


def test_deactivating_a_user_ends_their_sessions_even_after_reactivation(
    app: Any, client: Any, db: Any, team: dict[str, Any]
) -> None:
    from crm.core.users import update_user

    client.login("specialist@linkgap.example")
    stolen = _cookies(client)
    user = team["specialist"]
    update_user(user, name=user.name, role=user.role, active=False)
    db.session.commit()
    assert _replay(app, stolen) == 302
    update_user(user, name=user.name, role=user.role, active=True)
    db.session.commit()
    assert _replay(app, stolen) == 302


def test_signing_in_starts_a_new_session(client: Any, team: dict[str, Any]) -> None:
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    client.login("admin@linkgap.example")
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"] == f"{team['admin'].id}:{team['admin'].session_version}"


def test_remember_cookie_is_secure_whenever_the_session_cookie_is(tmp_path: Any) -> None:
    from crm.config import load_config

    config = load_config(tmp_path, {"SESSION_COOKIE_SECURE": True})
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert load_config(tmp_path)["REMEMBER_COOKIE_SECURE"] is False


def test_hsts_is_sent_over_https_only(client: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://crm.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


# --- sign-in attempts ------------------------------------------------------------------


def _sign_in_seconds(client: Any, email: str, tries: int = 3) -> float:
    import time

    token = client.csrf_token("/login")
    started = time.perf_counter()
    for _ in range(tries):
        response = client.post(
            "/login", data={"csrf_token": token, "email": email, "password": "x"}
        )
        assert response.status_code == 401
    return (time.perf_counter() - started) / tries


def test_an_unknown_account_answers_in_the_same_time_as_a_known_one(
    client: Any, team: dict[str, Any]
) -> None:
    known = _sign_in_seconds(client, "admin@linkgap.example")
    unknown = _sign_in_seconds(client, "nobody@linkgap.example")
    # Both hash a password (scrypt, tens of milliseconds); without the dummy hash the
    # unknown address answered in well under a tenth of the time.
    assert unknown > known * 0.6, (known, unknown)


def test_failed_sign_ins_are_limited_per_account_across_addresses(
    client: Any, app: Any, team: dict[str, Any]
) -> None:
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 3
    token = client.csrf_token("/login")
    bad = {"csrf_token": token, "email": "admin@linkgap.example", "password": "wrong"}
    statuses = [
        client.post("/login", data=bad, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    right = {**bad, "password": PASSWORD}
    assert client.post("/login", data=right).status_code == 429
    other = {**bad, "email": "manager@linkgap.example", "password": PASSWORD}
    assert client.post("/login", data=other).status_code == 302


def test_failures_are_counted_in_the_database_every_process_shares(
    client: Any, db: Any, team: dict[str, Any]
) -> None:
    from crm.models.user import SignInFailure

    client.post_form("/login", {"email": "admin@linkgap.example", "password": "wrong"})
    keys = sorted(f.key for f in db.session.query(SignInFailure))
    assert keys == ["account:admin@linkgap.example", "address:127.0.0.1"]


def test_the_limit_can_live_in_a_limits_store_such_as_redis(
    app_config: dict[str, Any], team: dict[str, Any]
) -> None:
    from crm import create_app
    from crm.web.auth_limits import LimitsFailures
    from tests.conftest import FormClient

    other = create_app({**app_config, "LOGIN_LIMIT_STORAGE_URI": "memory://"})
    other.test_client_class = FormClient
    assert isinstance(other.extensions["sign_in_failures"], LimitsFailures)
    client = other.test_client()
    with other.app_context():
        token = client.csrf_token("/login")
        bad = {"csrf_token": token, "email": "admin@linkgap.example", "password": "wrong"}
        statuses = [client.post("/login", data=bad).status_code for _ in range(11)]
    assert statuses[-2:] == [401, 429]


# --- requests from outside -------------------------------------------------------------


class _CountingStream:
    def __init__(self, size: int) -> None:
        self.left, self.read_bytes = size, 0

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        self.read_bytes += n
        return b"a" * n

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit)

    def tell(self) -> int:
        return self.read_bytes


def test_an_anonymous_upload_is_refused_before_its_body_is_read(
    client: Any, team: dict[str, Any]
) -> None:
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    stream = _CountingStream(50 * 1024 * 1024)
    environ = EnvironBuilder(
        path=f"/campaigns/{team['campaign'].id}/gap/import",
        method="POST",
        content_type="multipart/form-data; boundary=x",
    ).get_environ()
    environ.update({"wsgi.input": stream, "CONTENT_LENGTH": str(stream.left)})
    _body, status, headers = run_wsgi_app(client.application, environ, buffered=True)
    assert status.startswith("302") and "/login" in headers["Location"]
    assert stream.read_bytes == 0


def test_an_anonymous_large_form_to_a_public_page_gets_413(client: Any) -> None:
    body = "email=a%40b.c&password=" + "x" * (1024 * 1024)
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_client_addresses_come_from_trusted_proxies_only_when_configured(
    app_config: dict[str, Any], db: Any, team: dict[str, Any]
) -> None:
    from crm import create_app
    from crm.models.user import SignInFailure
    from tests.conftest import FormClient

    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        application = create_app({**app_config, "TRUSTED_PROXIES": proxies})
        application.test_client_class = FormClient
        client = application.test_client()
        with application.app_context():
            client.post_form(
                "/login",
                {"email": "a@b.example", "password": "x"},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
        keys = {f.key for f in db.session.query(SignInFailure)}
        assert f"address:{expected}" in keys, keys
        db.session.query(SignInFailure).delete()
        db.session.commit()
