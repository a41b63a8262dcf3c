"""The reports' filter bar: campaign, date range, specialist, breakdowns, goal — read from the
query string into a ReportScope for the signed-in user, with one error per field.

Specialists see their own numbers (their prospects, in their campaigns);
managers and admins see the team and may pick a specialist. A campaign the
user may not see answers 404 with the error next to the field, never data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Campaign, Role, User
from crm.reports.dimensions import DIMENSIONS
from crm.reports.params import ReportScope, check_range, parse_breakdowns, parse_day
from crm.web.access import visible_campaigns_query
from crm.web.objects import find_object

DEFAULT_GOAL = 25
MAX_GOAL = 100_000


@dataclass
class Filters:
    """What the filter bar asked for, what it means, and what was wrong with it."""

    args: dict[str, str]
    campaigns: list[Campaign]
    specialists: list[User]
    scope: ReportScope = field(default_factory=ReportScope)
    dims: tuple[str, ...] = ()
    goal: int = DEFAULT_GOAL
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, error: UserError, status: int = 400) -> None:
        self.errors.setdefault(error.field or "form", error.message)
        self.status = max(self.status, status)

    @property
    def breakdown_choices(self) -> list[tuple[str, str]]:
        return [(d.name, d.heading) for d in DIMENSIONS.values()]

    def query(self, **changes: Any) -> dict[str, str]:
        """The filter's arguments (for links to CSV downloads and the builder)."""
        return {k: v for k, v in {**self.args, **changes}.items() if v}


def _int(raw: str, shown: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"{shown}: {raw!r} is not a number", field=name) from None
    if value < 0 or value > 2**62:
        raise UserError(f"{shown}: {raw!r} is out of range", field=name)
    return value


def read_filters(args: MultiDict[str, str], user: User, *, breakdowns: bool = False) -> Filters:
    """Parse the reports' query string for `user`."""
    names = ("campaign", "from", "to", "specialist", "goal", "by", "by2")
    raw = {n: (args.get(n) or "").strip()[:200] for n in names}
    campaigns = list(db.session.scalars(visible_campaigns_query(user)))
    manager = user.has_role(Role.MANAGER)
    specialists = (
        list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))
        if manager
        else []
    )
    filters = Filters(raw, campaigns, specialists)
    visible = {c.id: c for c in campaigns}
    campaign_ids: tuple[int, ...] = tuple(visible)
    try:
        if raw["campaign"]:
            chosen = _int(raw["campaign"], "Campaign", "campaign")
            found = find_object(Campaign, chosen, user=user)
            if found is None or found.id not in visible:
                raise UserError(
                    "Campaign: no campaign you may see has this id; choose one from the list",
                    field="campaign",
                )
            campaign_ids = (found.id,)
    except UserError as error:
        filters.fail(error, 404 if raw["campaign"].isdigit() else 400)
    start = end = None
    try:
        start = parse_day(raw["from"], "From", "from")
    except UserError as error:
        filters.fail(error)
    try:
        end = parse_day(raw["to"], "To", "to")
        check_range(start, end, "To")
    except UserError as error:
        filters.fail(error)
    specialist_id: int | None = None if manager else user.id
    try:
        if manager and raw["specialist"]:
            specialist_id = _int(raw["specialist"], "Specialist", "specialist")
            if specialist_id not in {u.id for u in specialists}:
                raise UserError("Specialist: choose someone from the list", field="specialist")
        if raw["goal"]:
            filters.goal = min(_int(raw["goal"], "Goal", "goal"), MAX_GOAL)
    except UserError as error:
        filters.fail(error)
    if breakdowns:
        try:
            filters.dims = parse_breakdowns([raw["by"] or "angle", raw["by2"]], "Breakdown")
        except UserError as error:
            filters.fail(error)
    filters.scope = ReportScope(campaign_ids, start, end, specialist_id)
    return filters


def today() -> date:
    from crm.models import utcnow

    return utcnow().date()
