"""Foundation commands: users, campaigns, demo."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from crm.commands import format_option, print_json, print_table, read_password_stdin, user_errors
from crm.commands.up import up
from crm.core.campaigns import create_campaign
from crm.core.users import create_user, find_user_by_email, normalise_login_email
from crm.extensions import db
from crm.models import Campaign


def register(group: AppGroup) -> None:
    group.add_command(users)
    group.add_command(campaigns)
    group.add_command(demo)
    group.add_command(up)
    group.add_command(demo_sandbox)


@click.group(cls=AppGroup)
def users() -> None:
    """Manage users."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, help="admin, manager or specialist")
@click.option("--name", default="", help="Display name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from stdin")
@user_errors
def users_create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a user (the password is read from standard input)."""
    user = create_user(email, role, read_password_stdin(), name)
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}")


@users.command("list")
@format_option
def users_list(fmt: str) -> None:
    """List users."""
    from sqlalchemy import select

    from crm.models import User

    rows = db.session.scalars(select(User).order_by(User.email)).all()
    if fmt == "json":
        print_json(
            [
                {"email": u.email, "name": u.name, "role": u.role.value, "active": u.active}
                for u in rows
            ]
        )
    else:
        print_table(
            ["email", "name", "role", "active"],
            [[u.email, u.name, u.role.value, "yes" if u.active else "no"] for u in rows],
        )


@click.group(cls=AppGroup)
def campaigns() -> None:
    """Manage campaigns."""


@campaigns.command("create")
@click.argument("name")
@click.option("--site", required=True, help="The domain we build links for")
@click.option(
    "--competitor",
    "competitors",
    multiple=True,
    required=True,
    help="A search competitor's domain (repeat for each)",
)
@click.option("--member", "members", multiple=True, help="A member's email (repeat)")
@user_errors
def campaigns_create(
    name: str, site: str, competitors: tuple[str, ...], members: tuple[str, ...]
) -> None:
    """Create a campaign for a site and its competitors."""
    from crm.core.errors import UserError

    people = []
    for email in members:
        user = find_user_by_email(normalise_login_email(email))
        if user is None:
            raise UserError(f"no user with email {email}")
        people.append(user)
    campaign = create_campaign(name, site, competitors, members=people)
    db.session.commit()
    click.echo(
        f"created campaign {campaign.name} (site {campaign.site.domain}, "
        f"{len(campaign.competitors)} competitors)"
    )


def campaign_as_json(c: Campaign) -> dict[str, object]:
    return {
        "id": c.id,
        "name": c.name,
        "site": c.site.domain,
        "competitors": c.competitor_domains,
        "members": [m.email for m in c.members],
        "min_overlap": c.min_overlap,
        "created_at": c.created_at.isoformat().replace("+00:00", "Z"),
    }


@campaigns.command("list")
@format_option
def campaigns_list(fmt: str) -> None:
    """List campaigns."""
    from sqlalchemy import select

    rows = db.session.scalars(select(Campaign).order_by(Campaign.name)).all()
    if fmt == "json":
        print_json([campaign_as_json(c) for c in rows])
        return
    print_table(
        ["name", "site", "competitors", "members"],
        [
            [
                c.name,
                c.site.domain,
                ", ".join(c.competitor_domains),
                ", ".join(m.email for m in c.members),
            ]
            for c in rows
        ],
    )


@click.command("demo")
@click.option("--force", is_flag=True, help="Seed even when users exist")
@user_errors
def demo(force: bool) -> None:
    """Seed a demo workspace on first run and print its logins."""
    from flask import current_app

    from crm.demo import demo_logins, seed_demo_workspace

    created = seed_demo_workspace(force=force)
    db.session.commit()
    url = current_app.config["BASE_URL"]
    if created:
        click.echo(f"Demo workspace created. Open {url} and sign in as one of:")
    else:
        click.echo(f"Workspace already set up. Open {url} (demo logins, if kept):")
    for role, email, password in demo_logins():
        click.echo(f"  {role:<10} {email} / {password}")


@click.command("demo-sandbox", hidden=True)
@click.option("--folder", required=True, type=click.Path(file_okay=False), help="Sandbox folder")
@click.option("--smtp-port", required=True, type=int)
@click.option("--imap-port", required=True, type=int)
@click.option("--pages-port", required=True, type=int)
@click.option("--login", required=True, help="The login the SMTP server accepts")
@click.option("--password", required=True, help="Its password (the demo's, not a secret)")
def demo_sandbox(
    folder: str, smtp_port: int, imap_port: int, pages_port: int, login: str, password: str
) -> None:
    """Serve the demo's SMTP sandbox and prospect pages on 127.0.0.1 (`crm up` runs it)."""
    from pathlib import Path

    from crm.demo.sandbox import SandboxPorts, run_sandbox

    run_sandbox(Path(folder), SandboxPorts(smtp_port, imap_port, pages_port), (login, password))
