"""Contacts import, suppression and mailboxes from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from crm.commands.outreach import parse_map_options
from crm.core.errors import UserError
from crm.core.suppression import is_suppressed
from crm.models import Contact, Mailbox, Prospect
from crm.outreach.mailboxes import mailbox_password
from tests.factories import ProspectFactory

pytestmark = pytest.mark.postgres


def cli(app: Flask, *args: str, stdin: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def test_contacts_import_adds_contacts_and_creates_missing_prospects(
    app: Flask, db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    ProspectFactory(campaign=team["campaign"], domain="pmtoolsreview.com")
    db.session.commit()
    path = tmp_path / "contacts.csv"
    path.write_text(
        "domain,email,first_name,last_name,role,timezone\n"
        "https://www.pmtoolsreview.com/,Sarah@PMToolsReview.com,Sarah,Lee,Editor,Europe/London\n"
        "newblog.org,ed@newblog.org,Ed,,,\n"
    )
    result = cli(app, "contacts", "import", "Mine", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "added": 2,
        "updated": 0,
        "new_prospects": ["newblog.org"],
    }
    sarah = db.session.query(Contact).filter_by(email="sarah@pmtoolsreview.com").one()
    assert sarah.timezone == "Europe/London" and sarah.prospect.domain == "pmtoolsreview.com"
    again = cli(app, "contacts", "import", "Mine", str(path), "--format", "json")
    assert json.loads(again.stdout)["updated"] == 2


def test_contacts_import_with_one_bad_row_names_line_and_column_and_imports_nothing(
    app: Flask, db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "domain,email,timezone\na.example.com,ok@a.example.com,\nb.example.com,not-an-address,\n"
    )
    result = cli(app, "contacts", "import", "Mine", str(path))
    assert result.exit_code == 1
    assert "contacts.csv, line 3, column email" in result.stderr
    assert db.session.query(Contact).count() == 0
    assert db.session.query(Prospect).count() == 0


def test_contacts_import_refuses_a_file_without_an_email_column(
    app: Flask, team: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("domain,name\na.com,x\n")
    result = cli(app, "contacts", "import", "Mine", str(path))
    assert result.exit_code == 1
    assert "missing column email (found: domain, name)" in result.stderr


def test_suppress_takes_an_address_or_a_whole_domain(app: Flask, db: Any) -> None:
    assert cli(app, "suppress", "Boss@Example.com", "--reason", "asked").exit_code == 0
    assert cli(app, "suppress", "https://www.spammy.co.uk/x").exit_code == 0
    assert is_suppressed("boss@example.com")
    assert is_suppressed("anyone@news.spammy.co.uk")
    assert not is_suppressed("other@example.com")
    bad = cli(app, "suppress", "not a domain")
    assert bad.exit_code == 1 and "invalid domain" in bad.stderr


def test_mailboxes_add_encrypts_the_password_and_never_lists_it(app: Flask, db: Any) -> None:
    result = cli(
        app,
        "mailboxes",
        "add",
        "outreach",
        "--email",
        "ana@sample-site.example",
        "--from-name",
        "Ana Lopez",
        "--username",
        "ana",
        "--password-stdin",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        "2525",
        "--smtp-security",
        "none",
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        "1143",
        "--imap-security",
        "none",
        "--window",
        "08:30-18:00",
        "--days",
        "mon-fri",
        "--timezone",
        "Europe/Berlin",
        "--daily-cap",
        "40",
        stdin="s3cret-pass\n",
    )
    assert result.exit_code == 0, result.stderr
    mailbox = db.session.query(Mailbox).one()
    assert b"s3cret" not in mailbox.password_encrypted
    assert mailbox_password(mailbox) == "s3cret-pass"
    assert mailbox.days == "mon,tue,wed,thu,fri" and mailbox.window_start == "08:30"
    listed = cli(app, "mailboxes", "list", "--format", "json")
    assert "s3cret" not in listed.stdout
    assert json.loads(listed.stdout)[0]["window"] == "08:30-18:00 mon,tue,wed,thu,fri Europe/Berlin"


def test_mailboxes_add_refuses_an_unknown_timezone(app: Flask) -> None:
    result = cli(
        app,
        "mailboxes",
        "add",
        "x",
        "--email",
        "a@b.co",
        "--from-name",
        "A",
        "--username",
        "a",
        "--password-stdin",
        "--smtp-host",
        "h",
        "--smtp-port",
        "25",
        "--imap-host",
        "h",
        "--imap-port",
        "143",
        "--timezone",
        "Mars/Olympus",
        stdin="pw\n",
    )
    assert result.exit_code == 1
    assert "unknown timezone 'Mars/Olympus'" in result.stderr


RELAY = ["mailboxes", "add", "relay", "--email", "ana@sample-site.example", "--smtp-host",
         "127.0.0.1", "--smtp-port", "25", "--smtp-security", "none", "--imap-host", "127.0.0.1",
         "--imap-port", "143", "--imap-security", "none"]  # fmt: skip


def test_mailboxes_add_no_auth_sends_without_logging_in(app: Flask, db: Any) -> None:
    result = cli(app, *RELAY, "--from-name", "Ana Lopez", "--no-auth")
    assert result.exit_code == 0, result.stderr
    mailbox = db.session.query(Mailbox).one()
    assert mailbox.username == "" and mailbox.password_encrypted == b""
    assert mailbox.from_name == "Ana Lopez"


@pytest.mark.parametrize(
    ("args", "error"),
    [(["--from-name", "Ana", "--no-auth", "--username", "ana"],
      "--no-auth takes neither --username nor --password-stdin"),
     (["--from-name", "Ana"], "give --password-stdin (with --username if it differs)"),
     (["--no-auth"], "Missing option '--from-name'"),
     (["--from-name", " ", "--no-auth"], "give the sender name recipients see"),
     (["--from-name", "Ana", "--no-auth", "--daily-cap", "3000000000"],
      "the daily cap must be 1 to 5,000"),
     (["--from-name", "Ana", "--no-auth", "--min-spacing-seconds", "3000000000"],
      "spacing must be 0 to 86,400 seconds")],
)  # fmt: skip
def test_mailboxes_add_needs_a_sender_name_and_a_login_or_no_auth(
    app: Flask, db: Any, args: list[str], error: str
) -> None:
    result = cli(app, *RELAY, *args)
    assert result.exit_code != 0
    assert error in result.stderr and "Traceback" not in result.output
    assert db.session.query(Mailbox).count() == 0


def test_contacts_import_reads_synonyms_and_map_options(
    app: Flask, db: Any, team: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Correo,Given name,Surname\ned@pmblog.org,Ed,Stone\n")
    refused = cli(app, "contacts", "import", "Mine", str(path))
    assert refused.exit_code == 1
    assert "export.csv, line 1: missing column email (found: Correo, Given name" in refused.stderr
    result = cli(app, "contacts", "import", "Mine", str(path), "--map", "email=correo")
    assert result.exit_code == 0, result.stderr
    ed = db.session.query(Contact).one()
    assert (ed.first_name, ed.last_name, ed.prospect.domain) == ("Ed", "Stone", "pmblog.org")
    bad = cli(app, "contacts", "import", "Mine", str(path), "--map", "email")
    assert bad.exit_code == 1 and "give FIELD=COLUMN" in bad.stderr


def test_map_options_parse_field_equals_column() -> None:
    assert parse_map_options(["Email=E-mail Address", "first_name = Nombre"]) == {
        "email": "E-mail Address",
        "first_name": "Nombre",
    }
    with pytest.raises(UserError, match="give FIELD=COLUMN"):
        parse_map_options(["email"])
