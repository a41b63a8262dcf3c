"""The facts every report counts, as SQL: DESIGN §7 implemented once.

`facts(scope, grain)` is a subquery with one row per contacted enrollment
(grain "enrollment") or per sent touch of one (grain "touch", for the step
breakdown), plus one row per prospect that won a link without any email
(contacted = 0). Each row carries the breakdown keys and 0/1 flags; the
report sums them (crm/reports/breakdown.py). The words for each rule are in
crm/reports/definitions.py and on the page.

- contacted: the enrollment has at least one touch in state `sent`.
- replied / positive: a human reply (positive: marked positive) matched to
  the enrollment; out-of-office and auto-replies are other kinds.
- response step: the step the first human reply answered, else the last step
  sent; in the touch grain a row's reply/placement counts on that step only.
- placed_on: the prospect's first won link's placed date.
- bounced / unsubscribed: stopped for that reason, or a matched hard bounce /
  unsubscribe request.
- open: the enrollment is still active or paused (the forecast's history
  leaves out prospects whose outreach is still going).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from crm.models import (
    Enrollment,
    EnrollmentState,
    InboundKind,
    InboundMessage,
    Prospect,
    ReplyOutcome,
    StopReason,
    Touch,
    TouchState,
    UTCDateTime,
    WonLink,
)
from crm.reports.params import ReportScope
from crm.reports.sqlfuncs import week_start

Grain = Literal["enrollment", "touch"]
# An enrollment still going: its prospect's outreach is not finished.
OPEN_STATES = (EnrollmentState.ACTIVE, EnrollmentState.PAUSED)

FACT_KEYS = (
    "angle",
    "tier",
    "authority",
    "link_type",
    "target",
    "specialist",
    "mailbox",
    "step",
    "week",
)


def authority_band(authority: Any) -> ColumnElement[Any]:
    """The authority band of DESIGN §3 (0–29, 30–49, 50–69, 70+), NULL when unknown."""
    return case(
        (authority.is_(None), null()),
        (authority < 30, literal("0–29")),
        (authority < 50, literal("30–49")),
        (authority < 70, literal("50–69")),
        else_=literal("70+"),
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def sent_per_enrollment() -> Any:
    """Enrollments with a sent touch: when the first went out and the last step sent."""
    return (
        select(
            Touch.enrollment_id.label("enrollment_id"),
            func.min(Touch.sent_at).label("first_sent_at"),
            func.max(Touch.step).label("last_step"),
        )
        .where(Touch.state == TouchState.SENT)
        .group_by(Touch.enrollment_id)
        .subquery("sent")
    )


def responses_per_enrollment() -> Any:
    """Per enrollment: replied, positive, bounced, unsubscribe asked, and the reply's step."""
    ranked = (
        select(
            InboundMessage.enrollment_id.label("enrollment_id"),
            InboundMessage.kind.label("kind"),
            InboundMessage.outcome.label("outcome"),
            Touch.step.label("step"),
            func.row_number()
            .over(
                partition_by=(InboundMessage.enrollment_id, InboundMessage.kind),
                order_by=(InboundMessage.received_at, InboundMessage.id),
            )
            .label("nth"),
        )
        .outerjoin(Touch, Touch.id == InboundMessage.matched_touch_id)
        .where(
            InboundMessage.enrollment_id.is_not(None),
            InboundMessage.kind.in_(
                (InboundKind.HUMAN_REPLY, InboundKind.BOUNCE_HARD, InboundKind.UNSUBSCRIBE_REQUEST)
            ),
        )
        .subquery("ranked")
    )
    is_human = ranked.c.kind == InboundKind.HUMAN_REPLY.value
    return (
        select(
            ranked.c.enrollment_id,
            func.max(_flag(is_human)).label("replied"),
            func.max(_flag(and_(is_human, ranked.c.outcome == ReplyOutcome.POSITIVE.value))).label(
                "positive"
            ),
            func.max(_flag(ranked.c.kind == InboundKind.BOUNCE_HARD.value)).label("bounced"),
            func.max(_flag(ranked.c.kind == InboundKind.UNSUBSCRIBE_REQUEST.value)).label(
                "unsubscribe_asked"
            ),
            func.max(case((and_(is_human, ranked.c.nth == 1), ranked.c.step))).label("reply_step"),
            func.min(case((ranked.c.kind == InboundKind.BOUNCE_HARD.value, ranked.c.step))).label(
                "bounce_step"
            ),
        )
        .group_by(ranked.c.enrollment_id)
        .subquery("responses")
    )


def won_per_prospect() -> Any:
    """Prospects with a won link, and the day the first was placed."""
    return (
        select(
            WonLink.prospect_id.label("prospect_id"),
            func.min(WonLink.placed_on).label("placed_on"),
        )
        .group_by(WonLink.prospect_id)
        .subquery("won")
    )


def _scope_conditions(scope: ReportScope, specialist: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.campaign_ids is not None:
        where.append(Prospect.campaign_id.in_(scope.campaign_ids))
    if scope.specialist_id is not None:
        where.append(specialist == scope.specialist_id)
    return where


def _contacted_rows(scope: ReportScope, grain: Grain, won: Any) -> Select[Any]:
    sent = sent_per_enrollment()
    responses = responses_per_enrollment()
    specialist = func.coalesce(Prospect.assigned_to_id, Enrollment.created_by_id)
    replied = func.coalesce(responses.c.replied, 0)
    positive = func.coalesce(responses.c.positive, 0)
    bounced = or_(
        Enrollment.stop_reason == StopReason.BOUNCED,
        func.coalesce(responses.c.bounced, 0) == 1,
    )
    unsubscribed = or_(
        Enrollment.stop_reason == StopReason.UNSUBSCRIBED,
        func.coalesce(responses.c.unsubscribe_asked, 0) == 1,
    )
    stmt = (
        select()
        .select_from(Enrollment)
        .join(sent, sent.c.enrollment_id == Enrollment.id)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .outerjoin(responses, responses.c.enrollment_id == Enrollment.id)
        .outerjoin(won, won.c.prospect_id == Enrollment.prospect_id)
    )
    if grain == "touch":
        step_touch = Touch.__table__.alias("step_touch")
        stmt = stmt.join(
            step_touch,
            and_(
                step_touch.c.enrollment_id == Enrollment.id,
                step_touch.c.state == TouchState.SENT.value,
            ),
        )
        step: Any = step_touch.c.step
        response_step = func.coalesce(responses.c.reply_step, sent.c.last_step)
        at_step = response_step == step
        replied_col: Any = _flag(and_(replied == 1, at_step))
        positive_col: Any = _flag(and_(positive == 1, at_step))
        placed_on: Any = case((at_step, won.c.placed_on))
        bounced_col: Any = _flag(
            and_(bounced, func.coalesce(responses.c.bounce_step, sent.c.last_step) == step)
        )
        unsubscribed_col: Any = _flag(and_(unsubscribed, sent.c.last_step == step))
    else:
        step = cast(null(), Integer)  # typed: PostgreSQL reads a bare NULL as text
        replied_col, positive_col, placed_on = replied, positive, won.c.placed_on
        bounced_col, unsubscribed_col = _flag(bounced), _flag(unsubscribed)
    where = _scope_conditions(scope, specialist)
    if scope.start is not None:
        where.append(sent.c.first_sent_at >= scope.start)
    if scope.end is not None:
        where.append(sent.c.first_sent_at < scope.end)
    return stmt.add_columns(
        Prospect.campaign_id.label("campaign_id"),
        Enrollment.prospect_id.label("prospect_id"),
        Enrollment.angle.label("angle"),
        Prospect.tier.label("tier"),
        authority_band(Prospect.authority).label("authority"),
        Prospect.link_type.label("link_type"),
        Prospect.target_page_id.label("target"),
        specialist.label("specialist"),
        Enrollment.mailbox_id.label("mailbox"),
        step.label("step"),
        week_start(sent.c.first_sent_at).label("week"),
        sent.c.first_sent_at.label("first_sent_at"),
        literal(1, Integer).label("contacted"),
        replied_col.label("replied"),
        positive_col.label("positive"),
        placed_on.label("placed_on"),
        bounced_col.label("bounced"),
        unsubscribed_col.label("unsubscribed"),
        _flag(Enrollment.state.in_(OPEN_STATES)).label("open"),
    ).where(*where)


def _placed_without_email(scope: ReportScope, won: Any) -> Select[Any]:
    """Prospects that won a link though no touch of theirs was ever sent."""
    emailed = exists(
        select(literal(1))
        .select_from(Enrollment)
        .join(Touch, Touch.enrollment_id == Enrollment.id)
        .where(Enrollment.prospect_id == Prospect.id, Touch.state == TouchState.SENT)
    )
    where = [~emailed, *_scope_conditions(scope, Prospect.assigned_to_id)]
    if scope.date_from is not None:
        where.append(won.c.placed_on >= scope.date_from)
    if scope.date_to is not None:
        where.append(won.c.placed_on <= scope.date_to)
    zero = literal(0, Integer)
    return (
        select(
            Prospect.campaign_id.label("campaign_id"),
            Prospect.id.label("prospect_id"),
            Prospect.angle.label("angle"),
            Prospect.tier.label("tier"),
            authority_band(Prospect.authority).label("authority"),
            Prospect.link_type.label("link_type"),
            Prospect.target_page_id.label("target"),
            Prospect.assigned_to_id.label("specialist"),
            cast(null(), Integer).label("mailbox"),
            cast(null(), Integer).label("step"),
            cast(null(), Date).label("week"),
            cast(null(), UTCDateTime()).label("first_sent_at"),
            zero.label("contacted"),
            zero.label("replied"),
            zero.label("positive"),
            won.c.placed_on.label("placed_on"),
            zero.label("bounced"),
            zero.label("unsubscribed"),
            zero.label("open"),
        )
        .select_from(Prospect)
        .join(won, won.c.prospect_id == Prospect.id)
        .where(*where)
    )


def facts_select(scope: ReportScope, grain: Grain = "enrollment") -> Any:
    """The SELECT of report facts for a scope (see the module's docstring)."""
    won = won_per_prospect()
    return _contacted_rows(scope, grain, won).union_all(_placed_without_email(scope, won))


def facts(scope: ReportScope, grain: Grain = "enrollment") -> Any:
    """The facts of a scope as a subquery."""
    return facts_select(scope, grain).subquery("facts")


# The facts' columns and their types, for a page that stores them once (crm/reports/stored.py).
FACT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("campaign_id", Integer),
    ("prospect_id", Integer),
    ("angle", String(80)),
    ("tier", Integer),
    ("authority", String(8)),
    ("link_type", String(40)),
    ("target", Integer),
    ("specialist", Integer),
    ("mailbox", Integer),
    ("step", Integer),
    ("week", Date),
    ("first_sent_at", UTCDateTime),
    ("contacted", Integer),
    ("replied", Integer),
    ("positive", Integer),
    ("placed_on", Date),
    ("bounced", Integer),
    ("unsubscribed", Integer),
    ("open", Integer),
)
