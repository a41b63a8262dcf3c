"""The foundation commands of CONTRACT: users, campaigns, demo."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from crm.core.users import find_user_by_email
from crm.models import Campaign, Role

pytestmark = pytest.mark.postgres


def run(app: Flask, *args: str, stdin: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def test_users_create_reads_the_password_from_stdin_and_the_user_can_sign_in(
    app: Flask, client: Any
) -> None:
    result = run(
        app,
        "users",
        "create",
        "a@b.co",
        "--role",
        "manager",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert result.exit_code == 0, result.stderr
    user = find_user_by_email("a@b.co")
    assert user is not None and user.role is Role.MANAGER
    client.login("a@b.co", "a-long-password")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "unknown role 'boss'"),
        (["--role", "admin"], None),
    ],
)
def test_users_create_refuses_bad_role_with_one_line(
    app: Flask, args: list[str], message: str | None
) -> None:
    result = run(
        app, "users", "create", "x@y.co", *args, "--password-stdin", stdin="a-long-password\n"
    )
    if message is None:
        assert result.exit_code == 0
        return
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_users_create_refuses_a_duplicate_email(app: Flask) -> None:
    ok = run(
        app,
        "users",
        "create",
        "dup@b.co",
        "--role",
        "specialist",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert ok.exit_code == 0
    again = run(
        app,
        "users",
        "create",
        "DUP@b.co",
        "--role",
        "manager",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert again.exit_code != 0
    assert "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_campaigns_create_normalises_domains_and_lists_as_json(app: Flask) -> None:
    result = run(
        app,
        "campaigns",
        "create",
        "Acme",
        "--site",
        "https://www.Acme.co.uk/",
        "--competitor",
        "rival-a.com",
        "--competitor",
        "http://blog.rival-b.com:8080",
    )
    assert result.exit_code == 0, result.stderr
    listed = run(app, "campaigns", "list", "--format", "json")
    data = json.loads(listed.stdout)
    assert data[0]["name"] == "Acme"
    assert data[0]["site"] == "acme.co.uk"
    assert data[0]["competitors"] == ["rival-a.com", "rival-b.com"]


def test_campaigns_create_refuses_the_site_as_its_own_competitor(app: Flask, db: Any) -> None:
    result = run(
        app, "campaigns", "create", "Acme", "--site", "acme.com", "--competitor", "www.acme.com"
    )
    assert result.exit_code != 0
    assert "the campaign's own site" in result.stderr
    assert db.session.query(Campaign).count() == 0


def test_demo_seeds_once_and_prints_the_login(app: Flask, db: Any) -> None:
    first = run(app, "demo")
    assert first.exit_code == 0
    assert "admin@demo.linkgap.example" in first.stdout
    second = run(app, "demo")
    assert second.exit_code == 0
    assert db.session.query(Campaign).count() == 1
    campaign = db.session.query(Campaign).one()
    assert len(campaign.competitors) == 4
    assert len(campaign.target_pages) >= 4
