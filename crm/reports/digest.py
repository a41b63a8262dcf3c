"""The weekly digest: the dashboard's headline numbers as a plain-text email. Pure.

Sent on Monday about the week before, to managers who opt in
(crm/reports/digest_service.py queues it through the outbox). Every number
comes from the same Dashboard object the page shows.
"""

from __future__ import annotations

from datetime import date, timedelta

from crm.reports.dashboard import Dashboard
from crm.reports.definitions import SMALL_SAMPLE
from crm.reports.shaping import Rate, ReportRow


def _rate(rate: Rate) -> str:
    if not rate.of:
        return "–"
    return f"{rate.percent()} ({rate.count} of {rate.of}, 95% {rate.interval_text()})"


def _angles(rows: list[ReportRow], limit: int = 3) -> list[str]:
    ranked = sorted(
        (r for r in rows if not r.small and r.placement.value is not None),
        key=lambda r: r.placement.value or 0.0,
        reverse=True,
    )
    return [f"  {r.label}: {_rate(r.placement)}" for r in ranked[:limit]]


def digest_message(board: Dashboard, monday: date, dashboard_url: str) -> tuple[str, str]:
    """Return (subject, body) of the digest sent on `monday` about the week before."""
    last = monday - timedelta(days=7)
    week = next((w for w in board.weeks if w.monday == last), None)
    sent, replies, placed = (week.sent, week.replies, week.placed) if week else (0, 0, 0)
    total = board.total
    outlook = board.outlook
    plan = outlook.plan
    subject = (
        f"Linkgap weekly, {last.isoformat()}: {placed} link{'s' * (placed != 1)} placed, "
        f"{replies} repl{'ies' if replies != 1 else 'y'}"
    )
    lines = [
        f"The week of {last.isoformat()} to {(monday - timedelta(days=1)).isoformat()}",
        f"  {sent} touches sent, {replies} human replies, {placed} links placed.",
        "",
        "All outreach so far",
        f"  Contacted: {total.counts.contacted_prospects} prospects "
        f"({total.counts.contacted} contacts)",
        f"  Reply rate: {_rate(total.reply)}",
        f"  Placement rate: {_rate(total.placement)}",
    ]
    if total.median_days is not None:
        lines.append(f"  Days from first email to placement: median {total.median_days:g}, "
                     f"mean {total.mean_days:g}")  # fmt: skip
    best = _angles(board.by_angle)
    lines += ["", f"Angles by placement rate (at least {SMALL_SAMPLE} prospects contacted)"]
    lines += best or ["  No angle has enough contacted prospects to rank yet."]
    lines += [
        "",
        f"This quarter (since {plan.quarter_start.isoformat()}, {plan.days_left} days left)",
        f"  {outlook.placed_this_quarter} links placed; {outlook.forecast.expected:.1f} expected "
        f"from the {outlook.forecast.in_sequence} prospects in sequence "
        f"(95%: {outlook.forecast.low:.1f}–{outlook.forecast.high:.1f}).",
    ]
    more = [f"{n} more tier-{t}" for t, n in plan.more_by_tier.items() if n]
    if plan.missing > 0 and more:
        lines.append(f"  To reach {plan.goal} links: contact about {' or '.join(more)} prospects.")
    states = board.health.states
    lines += [
        "",
        f"Won links: {states['live']} live, {states['inconclusive']} inconclusive, "
        f"{states['lost']} lost, {states['unchecked']} not checked yet.",
        "",
        f"The dashboard: {dashboard_url}",
        "You get this email because you opted in under Reports › Weekly digest.",
    ]
    return subject, "\n".join(lines) + "\n"
