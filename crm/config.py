"""Configuration: defaults here, then instance/config.py, then CRM_* environment variables."""

from __future__ import annotations

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
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT: int | None = None  # a token lives as long as the session
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    LOGIN_FAILURES_PER_MINUTE = 10
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


def _instance_secret(instance: Path, name: str, make: Any) -> str:
    """Read instance/<name>, creating it (mode 600) with make() on first run."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
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
        instance_path.mkdir(parents=True, exist_ok=True)
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
    config["RATELIMIT_DEFAULT"] = None
    return config
