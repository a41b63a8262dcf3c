"""The link checker: one pass over won links (`crm verify-links`, the worker's daily job),
and the check that runs at once when a link is logged.

Pages are fetched by a few threads, one host's links in order in one thread
(the fetcher's pacer keeps one request at a time per host, redirects
included); every result is written and committed by the calling thread, one
host at a time, so a slow or failing host never holds up or loses the
others' results.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from crm.extensions import db
from crm.links.fetch import Fetched, FetchSettings, PageFetcher
from crm.links.service import logged_of, record_check
from crm.links.verdict import Logged, Verdict, judge
from crm.models import CheckResult, LinkCheck, LinkState, WonLink

log = logging.getLogger("crm.links")


@dataclass(frozen=True)
class _Job:
    link_id: int
    logged: Logged


def make_fetcher(config: Any = None) -> PageFetcher:
    """A fetcher with the app's settings (CRM_LINKS_*)."""
    return PageFetcher(
        FetchSettings.from_config(config if config is not None else current_app.config)
    )


def fetch_and_judge(fetcher: PageFetcher, logged: Logged) -> tuple[Fetched, Verdict]:
    """Fetch the source page and judge it; an unexpected error is an inconclusive check."""
    try:
        fetched = fetcher.fetch(logged.source_url)
        return fetched, judge(fetched, logged)
    except Exception as exc:  # one broken page must never end the pass
        log.exception("checking %s failed", logged.source_url)
        fetched = Fetched(url=logged.source_url, problem=f"checker error: {type(exc).__name__}")
        return fetched, Verdict(CheckResult.INCONCLUSIVE, fetched.problem or "")


def check_link_now(link: WonLink, fetcher: PageFetcher | None = None) -> LinkCheck:
    """Check one link at once (on logging, or "check now"); flushes, the caller commits."""
    fetched, verdict = fetch_and_judge(fetcher or make_fetcher(), logged_of(link))
    return record_check(link, fetched, verdict)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _check_host(fetcher: PageFetcher, jobs: list[_Job]) -> list[tuple[int, Fetched, Verdict]]:
    return [(job.link_id, *fetch_and_judge(fetcher, job.logged)) for job in jobs]


def run_verify_pass(
    *,
    campaign_id: int | None = None,
    states: Iterable[LinkState] | None = None,
    fetcher: PageFetcher | None = None,
) -> dict[str, int]:
    """Check every won link (of a campaign, or in some states) once; commit per link.

    Returns the counts of CONTRACT `verify-links`: checked, live, lost, inconclusive
    (states after the pass), plus unchecked for links still short of a verdict, and
    errors for checks that could not be recorded (logged; the link is checked again
    next pass).
    """
    fetcher = fetcher or make_fetcher()
    stmt = select(WonLink).order_by(WonLink.id)
    if campaign_id is not None:
        stmt = stmt.where(WonLink.campaign_id == campaign_id)
    if states is not None:
        stmt = stmt.where(WonLink.state.in_(list(states)))
    by_host: dict[str, list[_Job]] = defaultdict(list)
    for link in db.session.scalars(stmt):
        by_host[_host(link.source_url)].append(_Job(link.id, logged_of(link)))
    db.session.commit()  # end the read: nothing is held open while pages are fetched
    counts = {"checked": 0, "live": 0, "lost": 0, "inconclusive": 0, "unchecked": 0, "errors": 0}
    workers = max(1, int(current_app.config.get("LINKS_CHECK_WORKERS") or 4))
    with ThreadPoolExecutor(max_workers=min(workers, max(1, len(by_host)))) as pool:
        futures = [pool.submit(_check_host, fetcher, jobs) for jobs in by_host.values()]
        for future in as_completed(futures):
            for link_id, fetched, verdict in future.result():
                try:
                    found = db.session.get(WonLink, link_id)
                    if found is None:  # deleted while its page was fetched
                        continue
                    record_check(found, fetched, verdict)
                    state = found.state.value
                    db.session.commit()
                except Exception:  # one page must never end the pass, here either
                    db.session.rollback()
                    log.exception("recording the check of link %s failed", link_id)
                    counts["errors"] += 1
                    continue
                counts["checked"] += 1
                counts[state] += 1
    return counts


def job_verify_links() -> dict[str, int]:
    """The worker's daily pass."""
    return run_verify_pass()
