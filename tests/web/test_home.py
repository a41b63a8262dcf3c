"""The home page and the banner every page shows while no worker runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crm.jobs import LOCK_LEASE, SCHEDULER_LOCK, acquire_lock, release_lock
from crm.models import utcnow

pytestmark = pytest.mark.postgres


def test_every_page_says_when_no_worker_has_been_seen(client: Any, team: dict[str, Any]) -> None:
    client.login(team["specialist"].email)
    page = client.get("/campaigns").get_data(as_text=True)
    assert 'id="no-worker"' in page
    assert "No worker is running" in page and "last seen" not in page


def test_the_banner_goes_away_while_a_worker_holds_its_lease(
    client: Any, team: dict[str, Any]
) -> None:
    assert acquire_lock(SCHEDULER_LOCK, "host:1")
    client.login(team["manager"].email)
    assert 'id="no-worker"' not in client.get("/campaigns").get_data(as_text=True)
    release_lock(SCHEDULER_LOCK, "host:1")
    assert 'id="no-worker"' in client.get("/campaigns").get_data(as_text=True)


def test_a_worker_that_stopped_renewing_is_reported_with_when_it_was_last_seen(
    client: Any, team: dict[str, Any]
) -> None:
    long_ago = utcnow() - LOCK_LEASE - timedelta(minutes=5)
    assert acquire_lock(SCHEDULER_LOCK, "host:1", now=long_ago)
    client.login(team["admin"].email)
    page = client.get("/campaigns").get_data(as_text=True)
    assert "No worker is running</strong> (last seen" in page


def test_signed_out_pages_show_no_banner(client: Any, db: Any) -> None:
    assert 'id="no-worker"' not in client.get("/login").get_data(as_text=True)


def test_the_web_copy_of_the_lock_names_matches_the_job_table() -> None:
    from crm.web import home

    assert (home.SCHEDULER_LOCK, home.LOCK_LEASE) == (SCHEDULER_LOCK, LOCK_LEASE)
