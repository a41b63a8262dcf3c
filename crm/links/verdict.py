"""What a fetch says about a won link, and the state it leaves the link in (pure).

- found: the page links to the target (its anchor and rel are compared with
  what was logged; a difference is flagged, never a failure);
- missing: the page answered with HTML and has no visible link to the target;
- gone: 404 or 410;
- inconclusive: anything that does not prove the link absent: 401, 403, 429,
  other 4xx, 5xx, timeouts, TLS and connection errors, refused addresses,
  redirect loops, pages too big, binary or not HTML. Checkers get blocked;
  a blocked check never counts towards "lost".

A link is lost after `lost_after` conclusive misses (missing or gone) in a row;
inconclusive checks neither add to that count nor reset it.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.links.anchors import phrase
from crm.links.fetch import Fetched
from crm.links.page import PageLink, decode_page, effective_rel, scan_page
from crm.models import AnchorType, CheckResult, LinkRel, LinkState

_STATUS_WORDS = {
    401: "the page needs a login",
    403: "the site refused the checker (blocked?)",
    429: "rate limited by the site",
}


@dataclass(frozen=True)
class Logged:
    """What a person logged about the link."""

    source_url: str
    target_url: str
    anchor: str
    anchor_type: AnchorType
    rel: LinkRel


@dataclass(frozen=True)
class Verdict:
    result: CheckResult
    reason: str
    actual_anchor: str | None = None
    actual_rel: LinkRel | None = None
    rel_detail: str = ""
    robots: tuple[str, ...] = ()
    rel_mismatch: bool = False
    anchor_mismatch: bool = False
    html: str | None = None
    charset: str = ""


def _status_problem(status: int) -> str:
    if status in _STATUS_WORDS:
        return f"HTTP {status}: {_STATUS_WORDS[status]}"
    if status >= 500:
        return f"HTTP {status}: server error"
    return f"HTTP {status}"


def _anchor_matches(link: PageLink, logged: Logged) -> bool:
    if logged.anchor_type == AnchorType.IMAGE and link.image and not phrase(logged.anchor):
        return True
    return phrase(link.anchor) == phrase(logged.anchor)


def _best(links: list[PageLink], logged: Logged) -> PageLink:
    """The link on the page that is most likely the one logged (same anchor first)."""
    for link in links:
        if _anchor_matches(link, logged):
            return link
    return links[0]


def judge(fetched: Fetched, logged: Logged) -> Verdict:
    """Turn one fetch of the source page into a verdict on the logged link."""
    if fetched.problem is not None:
        return Verdict(CheckResult.INCONCLUSIVE, fetched.problem)
    status = fetched.status or 0
    if status in (404, 410):
        return Verdict(CheckResult.GONE, f"HTTP {status}: the page is gone")
    if not 200 <= status < 300:
        return Verdict(CheckResult.INCONCLUSIVE, _status_problem(status))
    html, charset = decode_page(fetched.body or b"", fetched.content_type)
    scan = scan_page(html, fetched.final_url or logged.source_url, logged.target_url,
                     fetched.robots_headers)  # fmt: skip
    if not scan.links:
        return Verdict(
            CheckResult.MISSING, "the page has no visible link to the target",
            robots=scan.robots, html=html, charset=charset,
        )  # fmt: skip
    link = _best(scan.links, logged)
    rel, rel_detail = effective_rel(link.rel_tokens, scan.robots)
    rel_mismatch = rel != logged.rel
    anchor_mismatch = not _anchor_matches(link, logged)
    notes = ["link found"]
    if rel_mismatch:
        notes.append(f"rel {rel.value} (logged {logged.rel.value})")
    if anchor_mismatch:
        notes.append(f"anchor “{link.anchor}” (logged “{logged.anchor}”)")
    if "noindex" in scan.robots:
        notes.append("the page is noindex")
    return Verdict(
        CheckResult.FOUND, ", ".join(notes), actual_anchor=link.anchor, actual_rel=rel,
        rel_detail=rel_detail, robots=scan.robots, rel_mismatch=rel_mismatch,
        anchor_mismatch=anchor_mismatch, html=html, charset=charset,
    )  # fmt: skip


def next_state(
    state: LinkState, misses: int, result: CheckResult, lost_after: int
) -> tuple[LinkState, int]:
    """The link's state and consecutive misses after a check with `result`."""
    if result == CheckResult.FOUND:
        return LinkState.LIVE, 0
    if result == CheckResult.INCONCLUSIVE:
        # No proof either way: a lost link stays lost, anything else is unknown now.
        return (LinkState.LOST if state == LinkState.LOST else LinkState.INCONCLUSIVE), misses
    misses += 1
    if misses >= max(1, lost_after):
        return LinkState.LOST, misses
    return state, misses


def summary(verdict: Verdict, misses: int, lost_after: int, state: LinkState) -> str:
    """One line for the link's row: what the last check found."""
    if verdict.result in (CheckResult.MISSING, CheckResult.GONE) and state != LinkState.LOST:
        return f"{verdict.reason} ({misses} of {lost_after} checks before lost)"
    return verdict.reason
