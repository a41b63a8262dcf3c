"""Real components tests need: skip locally when absent, fail when CRM_TEST_REQUIRE lists them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

KNOWN = {"postgres", "dovecot", "chromium"}


def required_components() -> set[str]:
    raw = os.environ.get("CRM_TEST_REQUIRE", "")
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


def require(name: str, why: str) -> None:
    """Skip (or fail, when CRM_TEST_REQUIRE names it) because component `name` is missing."""
    message = f"{name} is not available: {why}"
    if name in required_components():
        pytest.fail(f"{message} (required by CRM_TEST_REQUIRE)", pytrace=False)
    pytest.skip(message)


def postgres_url() -> str | None:
    return os.environ.get("CRM_TEST_DATABASE_URL") or None


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None


def chromium_binary() -> str | None:
    explicit = os.environ.get("CRM_TEST_CHROMIUM")
    if explicit and Path(explicit).exists():
        return explicit
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")
