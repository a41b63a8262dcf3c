"""The single scheduler process and its lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from crm.jobs import LOCK_LEASE, SCHEDULER_LOCK, acquire_lock, release_lock, renew_lock
from crm.models import utcnow

pytestmark = pytest.mark.postgres


def test_only_one_holder_gets_the_scheduler_lock(db: Any) -> None:
    assert acquire_lock(SCHEDULER_LOCK, "host:1")
    assert not acquire_lock(SCHEDULER_LOCK, "host:2")
    assert acquire_lock(SCHEDULER_LOCK, "host:1"), "the holder may re-acquire its own lease"


def test_an_expired_lease_can_be_taken_over(db: Any) -> None:
    start = utcnow()
    assert acquire_lock(SCHEDULER_LOCK, "host:1", now=start)
    later = start + LOCK_LEASE + timedelta(seconds=1)
    assert acquire_lock(SCHEDULER_LOCK, "host:2", now=later)
    assert not renew_lock(SCHEDULER_LOCK, "host:1", now=later), "the old holder lost it"


def test_released_lock_is_free_again(db: Any) -> None:
    assert acquire_lock(SCHEDULER_LOCK, "host:1")
    release_lock(SCHEDULER_LOCK, "host:1")
    assert acquire_lock(SCHEDULER_LOCK, "host:2")


def test_second_worker_refuses_to_start_while_one_holds_the_lock(app: Flask) -> None:
    assert acquire_lock(SCHEDULER_LOCK, "otherhost:4242")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code != 0
    assert "another crm worker is running (otherhost:4242" in result.stderr


def test_worker_once_runs_and_releases_the_lock(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.stderr
    assert acquire_lock(SCHEDULER_LOCK, "someone-else")


def test_the_demo_prospects_job_runs_only_beside_the_demo_sandbox() -> None:
    from crm.jobs import jobs_for

    assert "demo-prospects" not in [j.name for j in jobs_for({})]
    assert "demo-prospects" in [j.name for j in jobs_for({"DEMO_SANDBOX": "/tmp/sandbox"})]
