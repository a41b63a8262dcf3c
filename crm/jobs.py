"""The periodic job table of `crm worker`, and the lock that keeps it to one process.

Each area adds one row to JOBS: the job's name, the dotted path of a function that
runs one pass inside an app context and returns its counts, the setting that holds
its interval, and the default interval. The web process never imports this.
"""

from __future__ import annotations

import importlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import WorkerLock, utcnow

SCHEDULER_LOCK = "scheduler"
LOCK_LEASE = timedelta(seconds=90)
LOCK_RENEW_SECONDS = 30


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str  # "module:function"; the function runs one pass and returns counts
    interval_setting: str
    default_seconds: int
    only_when: str | None = None  # a setting that must be set for the job to be scheduled

    def load(self) -> Callable[[], dict[str, Any]]:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


JOBS: list[JobSpec] = [
    JobSpec("send-due", "crm.outreach.sender:job_send_due", "SEND_EVERY_SECONDS", 60),
    JobSpec("poll-inbox", "crm.replies.poll_pass:job_poll_inbox", "POLL_EVERY_SECONDS", 180),
    JobSpec(
        "verify-links", "crm.links.checker:job_verify_links", "LINKS_CHECK_EVERY_SECONDS", 86400
    ),
    JobSpec(
        "remove-old-uploads",
        "crm.gap.uploads:job_remove_old_uploads",
        "GAP_UPLOADS_CLEAN_EVERY_SECONDS",
        86400,
    ),
    # Queues each opted-in manager's digest once a week; the send pass delivers it.
    JobSpec(
        "weekly-digest",
        "crm.reports.digest_service:job_queue_weekly_digests",
        "DIGEST_EVERY_SECONDS",
        3600,
    ),
    # The demo's made-up prospects answering through its mail sandbox (`crm up` only).
    JobSpec(
        "demo-prospects",
        "crm.demo.simulator:job_simulate_prospects",
        "DEMO_PROSPECTS_EVERY_SECONDS",
        10,
        only_when="DEMO_SANDBOX",
    ),
]


def jobs_for(config: Any) -> list[JobSpec]:
    """Return the jobs this configuration schedules."""
    return [job for job in JOBS if job.only_when is None or config.get(job.only_when)]


def interval_of(job: JobSpec, config: Any) -> int:
    return int(config.get(job.interval_setting) or job.default_seconds)


def lock_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lock(name: str, holder: str, now: datetime | None = None) -> bool:
    """Take the named lease if it is free or expired; commit; return whether we hold it."""
    now = now or utcnow()
    expires = now + LOCK_LEASE
    try:
        db.session.execute(insert(WorkerLock).values(name=name, holder=holder, expires_at=expires))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    # Compare-and-set: only one contender can take over an expired lease.
    taken = db.session.execute(
        update(WorkerLock)
        .where(WorkerLock.name == name)
        .where((WorkerLock.expires_at < now) | (WorkerLock.holder == holder))
        .values(holder=holder, expires_at=expires)
    )
    db.session.commit()
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def renew_lock(name: str, holder: str, now: datetime | None = None) -> bool:
    """Extend our lease; False when another process took it over."""
    now = now or utcnow()
    renewed = db.session.execute(
        update(WorkerLock)
        .where(WorkerLock.name == name, WorkerLock.holder == holder)
        .values(expires_at=now + LOCK_LEASE)
    )
    db.session.commit()
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def release_lock(name: str, holder: str) -> None:
    db.session.execute(
        delete(WorkerLock).where(WorkerLock.name == name, WorkerLock.holder == holder)
    )
    db.session.commit()


def current_lock(name: str) -> WorkerLock | None:
    return db.session.get(WorkerLock, name)
