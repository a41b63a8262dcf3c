"""Enrolling prospects, the scheduled outbox per mailbox and day, and per-touch actions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.core.ids import parse_id, parse_whole
from crm.extensions import db
from crm.models import (
    BLOCKED_NOTE_PREFIX,
    TOUCH_TROUBLED,
    Angle,
    Campaign,
    Contact,
    Enrollment,
    Mailbox,
    Prospect,
    ProspectStatus,
    Role,
    StopReason,
    Touch,
    TouchState,
    utcnow,
)
from crm.outreach.enroll_checks import blockers
from crm.outreach.enrollment import enroll
from crm.outreach.lifecycle import pause_enrollment, resume_enrollment, stop_enrollment
from crm.outreach.personalise import needs_review
from crm.outreach.touch_actions import cancel_touch, mark_uncertain_sent, requeue_uncertain_touch
from crm.web.access import visible_campaigns_query
from crm.web.auth import safe_next
from crm.web.helpers import Page, page_number
from crm.web.objects import load_object, load_objects, load_optional, visible
from crm.web.panels import Panel

bp = Blueprint("outbox", __name__)

# Prospects the enroll page takes at once, and of those the ones it lists to untick.
ENROLL_LIMIT = 2000
ENROLL_LISTED = 500
OPEN_STATES = (TouchState.SCHEDULED, TouchState.CLAIMED, TouchState.SENDING, TouchState.RETRY_WAIT)
# What people do about a skip, said after the count ("87 have no contact — add contacts").
SKIP_ADVICE = {
    "no contact": "add contacts",
    "no angle set for this prospect": "set their angle, or choose one",
    "already in an active sequence": "wait for it to end, or allow it below",
    "no contact that may be emailed (suppressed, bounced or busy)": "add another contact",
}


def grouped(reasons: Iterable[str]) -> list[tuple[str, int, str]]:
    """Return (reason, count, advice) per distinct reason, the most common first."""
    counts: dict[str, int] = {}
    for reason in reasons:
        key = reason.split(" (campaign ")[0]
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(reason, n, SKIP_ADVICE.get(reason, "")) for reason, n in ordered]


# What the outbox's "Needs attention" lists and its badge counts: a troubled
# touch, or one the gate blocked until a person acts. A touch only waiting for
# its window, cap or spacing needs nobody.
NEEDS_ATTENTION = (
    Touch.state.in_(TOUCH_TROUBLED) | Touch.last_error.startswith(BLOCKED_NOTE_PREFIX)
) & (Touch.state != TouchState.SENT)


def sequences_panel(prospect: Prospect) -> Panel:
    """The prospect's enrollments with every touch's state, and the enroll form."""
    enrollments = (
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.prospect_id == prospect.id)
            .options(joinedload(Enrollment.touches), joinedload(Enrollment.contact))
            .order_by(Enrollment.created_at.desc())
        )
        .unique()
        .all()
    )
    angles = db.session.scalars(select(Angle).where(Angle.active).order_by(Angle.label)).all()
    mailboxes = db.session.scalars(
        visible(Mailbox, select(Mailbox), campaign=prospect.campaign).order_by(Mailbox.name)
    ).all()
    return Panel(
        "outbox/_panel.html",
        {"enrollments": enrollments, "angles": angles, "mailboxes": mailboxes},
    )


def _form_ok() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _enroll_options(campaign: Campaign) -> dict[str, Any]:
    angle = request.form.get("angle") or None
    mailbox = load_optional(Mailbox, request.form.get("mailbox_id"), campaign=campaign)
    return {
        "angle": angle,
        "mailbox": mailbox,
        "allow_active": request.form.get("allow_active") == "y",
        "actor": current_user,
    }


def _report(result: Any) -> None:
    if result.enrolled:
        flash(f"{len(result.enrolled)} enrolled; the first touches are scheduled.", "ok")
    if len(result.skipped) == 1:
        skipped = result.skipped[0]
        flash(f"Skipped {skipped.email or skipped.domain}: {skipped.reason}", "warning")
        return
    # Many skips read as one line per reason, not one banner per prospect.
    for reason, n, advice in grouped(s.reason for s in result.skipped):
        flash(f"{n} skipped: {reason}" + (f" — {advice}" if advice else ""), "warning")


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/enroll", methods=["POST"])
def enroll_prospect(campaign_id: int, prospect_id: int) -> Response:
    _form_ok()
    prospect = load_object(Prospect, prospect_id, campaign=g.campaign)
    ids = {
        c.id for c in load_objects(Contact, request.form.getlist("contact_id"), campaign=g.campaign)
    }
    contacts = [c for c in prospect.contacts if c.id in ids] or None
    try:
        result = enroll([prospect], contacts=contacts, **_enroll_options(g.campaign))
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        _report(result)
    return redirect(
        url_for("prospects.show", campaign_id=campaign_id, prospect_id=prospect_id) + "#sequences"
    )


@bp.route("/campaigns/<int:campaign_id>/enroll", methods=["GET", "POST"])
def enroll_many(campaign_id: int) -> Response | str:
    """Bulk enrollment: the gap table's selection, a tier, or the qualified prospects."""
    campaign: Campaign = g.campaign
    if request.method == "GET":
        return enroll_page(campaign, _ids(request.args), request.args.get("tier", ""))
    _form_ok()
    # Only the form's own ticks: a prospect unticked on the page is not enrolled.
    ids = _ids(request.form)
    tier = request.form.get("tier", "")
    options = _enroll_options(campaign)
    if request.form.get("rows") == "chosen" and not ids:
        flash("Select at least one prospect to enroll.", "error")
        return redirect(url_for("outbox.enroll_many", campaign_id=campaign.id, tier=tier or None))
    try:
        result = enroll(_chosen(campaign, ids, tier), **options)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return enroll_page(campaign, ids, tier, options["angle"])
    db.session.commit()
    _report(result)
    return redirect(url_for("outbox.scheduled", campaign=campaign.id))


def _ids(values: Any) -> list[int]:
    # Bounded before anything is read: past the page's limit, ids are nobody's selection.
    raw = values.getlist("prospect_id")[:ENROLL_LIMIT]
    return [i for i in map(parse_id, raw) if i is not None]


def _chosen(campaign: Campaign, ids: list[int], tier: str) -> list[Prospect]:
    stmt = visible(Prospect, select(Prospect), campaign=campaign)
    if ids:
        stmt = stmt.where(Prospect.id.in_(ids))
    elif (tier_number := parse_whole(tier)) is not None:
        stmt = stmt.where(Prospect.tier == tier_number, Prospect.in_gap.is_(True))
    else:
        stmt = stmt.where(Prospect.status == ProspectStatus.QUALIFIED)
    stmt = stmt.where(Prospect.excluded_by.is_(None) | Prospect.restored.is_(True))
    return list(db.session.scalars(stmt.order_by(Prospect.score.desc()).limit(ENROLL_LIMIT)))


def enroll_page(campaign: Campaign, ids: list[int], tier: str, angle: str | None = None) -> str:
    """Render the review of the prospects `ids` (else a tier, else the qualified) to enroll.

    The gap table renders it in answer to its own form, so a selection of 2,000
    travels in request bodies, never in a URL a proxy would refuse as too long.
    """
    chosen = _chosen(campaign, ids, tier)
    with_contacts = db.session.scalar(
        select(func.count(func.distinct(Contact.prospect_id))).where(
            Contact.prospect_id.in_([p.id for p in chosen] or [0])
        )
    )
    angles = db.session.scalars(select(Angle).where(Angle.active).order_by(Angle.label)).all()
    mailboxes = db.session.scalars(
        visible(Mailbox, select(Mailbox), campaign=campaign).order_by(Mailbox.name)
    ).all()
    blocked = blockers(chosen, own_angle=not angle)
    return render_template(
        "outbox/enroll.html",
        campaign=campaign,
        prospects=chosen,
        listed=ENROLL_LISTED,
        blocked=blocked,
        ready=len(chosen) - len(blocked),
        summary=grouped(blocked.values()),
        angle_labels={a.slug: a.label for a in angles},
        needs_review=needs_review(campaign),
        with_contacts=with_contacts,
        angles=angles,
        mailboxes=mailboxes,
        ids=ids,
        tier=tier,
    )


@bp.route("/outbox")
def scheduled() -> str:
    """Upcoming and problem touches per mailbox and local day, filtered server-side."""
    campaigns = db.session.scalars(visible_campaigns_query(current_user)).all()
    visible_ids = [c.id for c in campaigns]
    stmt = (
        select(Touch)
        .join(Enrollment)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(Prospect.campaign_id.in_(visible_ids or [0]))
        .options(
            joinedload(Touch.enrollment).joinedload(Enrollment.contact),
            joinedload(Touch.enrollment).joinedload(Enrollment.mailbox),
            joinedload(Touch.enrollment).joinedload(Enrollment.prospect),
        )
    )
    campaign_arg = request.args.get("campaign", "")
    if (campaign_id := parse_id(campaign_arg)) is not None:
        stmt = stmt.where(Prospect.campaign_id == campaign_id)
    mailbox_arg = request.args.get("mailbox", "")
    if (mailbox_id := parse_id(mailbox_arg)) is not None:
        stmt = stmt.where(Enrollment.mailbox_id == mailbox_id)
    view = request.args.get("view", "upcoming")
    if view == "problems":
        stmt = stmt.where(NEEDS_ATTENTION).order_by(Touch.due_at)
    elif view == "sent":
        stmt = stmt.where(Touch.state == TouchState.SENT).order_by(Touch.sent_at.desc())
    else:
        stmt = stmt.where(Touch.state.in_(OPEN_STATES)).order_by(Touch.due_at)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number, per = page_number(), 100
    touches = db.session.scalars(stmt.offset((number - 1) * per).limit(per)).unique().all()
    groups: dict[tuple[str, date], list[Touch]] = defaultdict(list)
    for touch in touches:
        mailbox = touch.enrollment.mailbox
        when = touch.sent_at if view == "sent" and touch.sent_at else touch.due_at
        local_day = when.astimezone(ZoneInfo(mailbox.timezone)).date()
        groups[(mailbox.name, local_day)].append(touch)
    problems = db.session.scalar(
        select(func.count())
        .select_from(Touch)
        .join(Enrollment)
        .join(Prospect, Prospect.id == Enrollment.prospect_id)
        .where(Prospect.campaign_id.in_(visible_ids or [0]), NEEDS_ATTENTION)
    )
    return render_template(
        "outbox/scheduled.html",
        groups=groups,
        page=Page(list(touches), number, per, total),
        view=view,
        campaigns=campaigns,
        mailboxes=db.session.scalars(visible(Mailbox, select(Mailbox))).all(),
        campaign_arg=campaign_arg,
        mailbox_arg=mailbox_arg,
        problems=problems,
        today=utcnow().date(),
        tomorrow=utcnow().date() + timedelta(days=1),
    )


def _back(enrollment: Enrollment) -> Response:
    fallback = (
        url_for(
            "prospects.show",
            campaign_id=enrollment.prospect.campaign_id,
            prospect_id=enrollment.prospect_id,
        )
        + "#sequences"
    )
    return redirect(safe_next(request.form.get("next"), fallback))


@bp.route("/enrollments/<int:enrollment_id>/<action>", methods=["POST"])
def enrollment_action(enrollment_id: int, action: str) -> Response:
    enrollment = load_object(Enrollment, enrollment_id)
    _form_ok()
    if action == "stop":
        done = stop_enrollment(enrollment, StopReason.MANUAL, current_user)
    elif action == "pause":
        done = pause_enrollment(enrollment, current_user)
    elif action == "resume":
        done = resume_enrollment(enrollment, current_user)
    else:
        abort(404)
    db.session.commit()
    flash(
        f"Sequence {action}{'ped' if action == 'stop' else 'd'}."
        if done
        else f"Nothing to {action}: the sequence is {enrollment.state.value}.",
        "ok" if done else "warning",
    )
    return _back(enrollment)


@bp.route("/touches/<int:touch_id>/<action>", methods=["POST"])
def touch_action(touch_id: int, action: str) -> Response:
    touch = load_object(Touch, touch_id)
    enrollment = touch.enrollment
    _form_ok()
    try:
        if action == "cancel":
            done = cancel_touch(touch, current_user)
        elif action == "requeue":
            if not current_user.has_role(Role.MANAGER):
                abort(403)
            requeue_uncertain_touch(touch, current_user)
            done = True
        elif action == "mark-sent":
            mark_uncertain_sent(touch, current_user)
            done = True
        else:
            abort(404)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(enrollment)
    db.session.commit()
    flash(
        "Done." if done else "Too late: the touch already left or ended.",
        "ok" if done else "warning",
    )
    return _back(enrollment)
