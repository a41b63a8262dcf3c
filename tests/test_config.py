"""Configuration layering and first-run secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.config import load_config


def test_first_run_generates_secret_and_encryption_keys_into_instance(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert (tmp_path / "secret_key").read_text().strip() == config["SECRET_KEY"]
    assert (tmp_path / "encryption_key").read_text().strip() == config["ENCRYPTION_KEY"]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    again = load_config(tmp_path)
    assert again["SECRET_KEY"] == config["SECRET_KEY"]


def test_default_database_is_a_sqlite_file_in_instance(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'linkgap.db'}"


def test_environment_overrides_instance_config_which_overrides_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.py").write_text("PAGE_SIZE = 25\nBASE_URL = 'https://from-file'\n")
    monkeypatch.setenv("CRM_BASE_URL", "https://crm.example.com")
    monkeypatch.setenv("CRM_SESSION_COOKIE_SECURE", "true")
    config = load_config(tmp_path)
    assert config["PAGE_SIZE"] == 25
    assert config["BASE_URL"] == "https://crm.example.com"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_create_app_does_not_start_a_scheduler(app) -> None:  # type: ignore[no-untyped-def]
    import threading

    assert not any(
        "APScheduler" in t.name or "scheduler" in t.name.lower() for t in threading.enumerate()
    )


def test_instance_folder_is_created_private_and_the_sqlite_file_too(tmp_path: Path) -> None:
    instance = tmp_path / "fresh-instance"
    load_config(instance)
    assert oct(instance.stat().st_mode & 0o777) == "0o700"
    assert oct((instance / "linkgap.db").stat().st_mode & 0o777) == "0o600"


def test_an_existing_sqlite_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "linkgap.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    load_config(tmp_path)
    assert oct(database.stat().st_mode & 0o777) == "0o600"


def test_no_settings_object_prints_a_secret_in_its_repr() -> None:
    from crm.mail.imap import ImapSettings
    from crm.mail.smtp import SmtpSettings
    from crm.outreach.mailboxes import MailboxSettings
    from crm.outreach.sender import SenderSettings

    secret = "hunter2-secret-value"
    shown = [
        ImapSettings(host="imap.example", port=993, username="u", password=secret),
        SmtpSettings(host="smtp.example", port=465, username="u", password=secret),
        MailboxSettings("n", "a@b.example", "A", "u", "h", 465, "tls", "h", 993, "tls", secret),
        SenderSettings(secret=secret),
    ]
    for settings in shown:
        assert secret not in repr(settings), type(settings).__name__
