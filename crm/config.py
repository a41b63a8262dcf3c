"""Configuration: defaults here, then instance/config.py, then CRM_* environment variables."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet


class Defaults:
    """Built-in defaults; every name can be overridden (see CONTRACT "Configuration")."""

    DATABASE_URL: str | None = None  # None -> sqlite file in instance/
    SECRET_KEY: str | None = None  # None -> generated into instance/
    ENCRYPTION_KEY: str | None = None  # None -> generated into instance/
    BASE_URL = "http://127.0.0.1:5000"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set CRM_SESSION_COOKIE_SECURE=1 behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False  # also on whenever SESSION_COOKIE_SECURE is
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT: int | None = None  # a token lives as long as the session
    # Failed sign-ins: per client address per minute, and per account per window.
    LOGIN_FAILURES_PER_MINUTE = 10
    LOGIN_FAILURES_PER_ACCOUNT = 20
    LOGIN_ACCOUNT_WINDOW_SECONDS = 15 * 60
    LOGIN_LIMIT_STORAGE_URI = "database"  # or redis://host:6379/0 (needs the redis package)
    TRUSTED_PROXIES = 0  # reverse proxies in front of the app that set X-Forwarded-*
    SQLITE_BUSY_TIMEOUT_SECONDS = 30  # a writer waits this long for the worker's commit
    # Bytes of a SQLite file each connection maps. SQLite reads every page its 2 MB
    # per-connection cache misses with a read() copied into that cache, and the gap
    # table re-counts a filtered view of 100,000 prospects on every request; mapped,
    # the pages come straight from the OS page cache, shared by every connection
    # (address space, not memory: the kernel evicts them). `crm gap import` maps none.
    SQLITE_MMAP_BYTES = 256 * 1024 * 1024
    PAGE_SIZE = 50
    MAX_CONTENT_LENGTH = 512 * 1024 * 1024  # exports can be large
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    TESTING = False


def _coerce(raw: str, current: Any) -> Any:
    """Turn an environment string into the type of the default it replaces."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int) and not isinstance(current, bool):
        return int(raw)
    if isinstance(current, dict | list):
        return json.loads(raw)
    return raw


def make_instance_folder(instance: Path) -> None:
    """Create instance/ readable by this user only (it holds keys and the database)."""
    if not instance.exists():
        instance.mkdir(parents=True, mode=0o700)
    # mkdir's mode is filtered by the umask, and a checkout's instance/ comes 0755.
    if instance.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # another user's folder: theirs to fix
            instance.chmod(0o700)


def make_private_file(path: Path) -> None:
    """Create `path` empty with mode 600 if it is missing; make an existing one 600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            with contextlib.suppress(PermissionError):  # another user's file: theirs to fix
                path.chmod(0o600)
    else:
        os.close(fd)


def _instance_secret(instance: Path, name: str, make: Any) -> str:
    """Read instance/<name>, creating it (mode 600) with make() on first run."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    make_instance_folder(instance)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return str(value)


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Layer defaults, instance/config.py, CRM_* environment and explicit overrides."""
    config: dict[str, Any] = {k: getattr(Defaults, k) for k in dir(Defaults) if k.isupper()}
    py = instance_path / "config.py"
    if py.exists():
        namespace: dict[str, Any] = {}
        exec(compile(py.read_text(), str(py), "exec"), namespace)
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for key, raw in os.environ.items():
        if key.startswith("CRM_") and key not in {"CRM_TEST_REQUIRE", "CRM_TEST_DATABASE_URL"}:
            name = key[4:]
            config[name] = _coerce(raw, config.get(name))
    config.update(overrides or {})

    if not config.get("DATABASE_URL"):
        make_instance_folder(instance_path)
        make_private_file(instance_path / "linkgap.db")
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'linkgap.db'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(
            instance_path, "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if not config.get("ENCRYPTION_KEY"):
        config["ENCRYPTION_KEY"] = _instance_secret(
            instance_path, "encryption_key", lambda: Fernet.generate_key().decode()
        )
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # The remember-me cookie is as long-lived as a password: never send it where the session is not.
    config["REMEMBER_COOKIE_SECURE"] = bool(
        config.get("REMEMBER_COOKIE_SECURE") or config.get("SESSION_COOKIE_SECURE")
    )
    return config
