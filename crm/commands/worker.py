"""`crm worker`: the single scheduler process (sends, polls, verifies)."""

from __future__ import annotations

import contextlib
import logging
import signal
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from crm.extensions import db
from crm.jobs import (
    LOCK_RENEW_SECONDS,
    SCHEDULER_LOCK,
    JobSpec,
    acquire_lock,
    current_lock,
    interval_of,
    jobs_for,
    lock_holder_id,
    release_lock,
    renew_lock,
)

log = logging.getLogger("crm.worker")


def register(group: AppGroup) -> None:
    group.add_command(worker)


def _run_job(app: Flask, job: JobSpec) -> None:
    """Run one pass of a job in its own app context; a failure is logged, never fatal."""
    with app.app_context():
        try:
            counts = job.load()()
            log.info("%s: %s", job.name, counts)
        except Exception:
            db.session.rollback()
            log.exception("%s failed; it runs again at its next interval", job.name)
        finally:
            db.session.remove()


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once, then exit")
@with_appcontext
def worker(once: bool) -> None:
    """Run the periodic jobs; refuses to start while another worker holds the lock."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # The jobs log their own counts; APScheduler's line per run repeats them.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    holder = lock_holder_id()
    if not acquire_lock(SCHEDULER_LOCK, holder):
        lock = current_lock(SCHEDULER_LOCK)
        who = f"{lock.holder} until {lock.expires_at:%Y-%m-%d %H:%M:%S}Z" if lock else "another"
        raise click.ClickException(f"another crm worker is running ({who}); not starting")
    jobs = jobs_for(app.config)
    try:
        if once:
            for job in jobs:
                _run_job(app, job)
            return
        scheduler = BlockingScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )

        def heartbeat() -> None:
            with app.app_context():
                if not renew_lock(SCHEDULER_LOCK, holder):
                    log.error("lost the worker lock to another process; stopping")
                    scheduler.shutdown(wait=False)
                db.session.remove()

        scheduler.add_job(heartbeat, "interval", seconds=LOCK_RENEW_SECONDS, id="heartbeat")
        for job in jobs:
            scheduler.add_job(
                _run_job,
                "interval",
                args=[app, job],
                seconds=interval_of(job, app.config),
                id=job.name,
                next_run_time=None,
            )
            scheduler.modify_job(job.name, next_run_time=_now())
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        click.echo(f"crm worker {holder}: {', '.join(j.name for j in jobs) or 'no jobs'}")
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
    finally:
        db.session.rollback()
        release_lock(SCHEDULER_LOCK, holder)


def _now() -> Any:
    from crm.models import utcnow

    return utcnow()
