"""Links: every won link with its state and checks, logging a link (from a reply, a prospect or
the Links page), a link's check history with the stored page as text, the risk panel, and the
won-links panel of the prospect page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crm.core.csv_cells import write_csv_rows
from crm.core.errors import UserError
from crm.core.prospects import find_prospect
from crm.extensions import db
from crm.links.checker import check_link_now
from crm.links.mentions import UNLINKED_ANGLE, find_unlinked_mentions, mentions_of
from crm.links.queries import (
    LinkFilters,
    campaign_risk,
    csv_rows,
    links_query,
    open_tasks,
)
from crm.links.reclaim import reclamation_text, reclamation_thread
from crm.links.risk import MixLink
from crm.links.service import (
    LinkInput,
    check_html,
    delete_won_link,
    log_won_link,
    suggest_for,
    update_won_link,
)
from crm.links.settings import clean_link_settings, link_settings
from crm.links.urls import link_key
from crm.models import (
    AnchorType,
    Campaign,
    InboundMessage,
    LinkCheck,
    LinkRel,
    LinkState,
    Prospect,
    ReclamationState,
    ReclamationTask,
    Role,
    UnlinkedMention,
    User,
    WonLink,
    utcnow,
)
from crm.outreach.one_offs import follow_up_on_thread
from crm.replies.inbox import count_of
from crm.web.access import requires, visible_campaigns_query
from crm.web.forms import attach_user_error, choices, lines
from crm.web.helpers import Page, page_number
from crm.web.objects import load_object, load_optional
from crm.web.panels import Panel

bp = Blueprint("links", __name__)

ANCHOR_CHOICES = choices(
    [("", "Suggest from the anchor")] + [(a.value, a.label) for a in AnchorType]
)
REL_CHOICES = choices([r.value for r in LinkRel])


class WonLinkForm(FlaskForm):
    prospect = StringField(
        "Prospect", validators=[Length(max=253)],
        description="The prospect's domain, as in the gap table.",
    )  # fmt: skip
    source_url = StringField(
        "Source page URL", validators=[Length(max=2048)],
        description="The page on the prospect's domain (or a subdomain) that carries the link.",
    )  # fmt: skip
    target_url = StringField(
        "Target URL", validators=[Length(max=2048)],
        description="One of the campaign's target pages, or any page of our site.",
    )  # fmt: skip
    anchor = StringField("Anchor text", validators=[Length(max=500)],
                         description="Empty for an image link.")  # fmt: skip
    anchor_type = SelectField("Anchor type", choices=ANCHOR_CHOICES, validate_choice=False)
    rel = SelectField("Rel", choices=REL_CHOICES, default="dofollow", validate_choice=False)
    placed_on = StringField("Placed on", render_kw={"type": "date"},
                            description="Empty: today.")  # fmt: skip
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])
    message_id = HiddenField()


class LinkSettingsForm(FlaskForm):
    lost_after = StringField(
        "Checks before a link is lost",
        description="Conclusive misses in a row (404/410 or link absent).",
    )
    exact_share_max = StringField(
        "Exact-match threshold (%)", description="Warn when exact anchors pass this share."
    )
    dominant_share_max = StringField(
        "One-anchor threshold (%)", description="Warn when one anchor text passes this share…"
    )
    dominant_min_links = StringField("…once a page or site has this many links")
    velocity_factor = StringField(
        "Velocity spike factor", description="Warn when a week passes this × the trailing average."
    )
    velocity_weeks = StringField("Weeks of trailing average")
    velocity_min_links = StringField("Links in a week before a spike counts")  # fmt: skip


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


# --- loading the objects a URL names (each checked against the URL's campaign) ----------


def _campaign() -> Campaign:
    campaign: Campaign = g.campaign
    return campaign


def _won_link(campaign_id: int, link_id: int) -> WonLink:
    return load_object(WonLink, link_id, campaign=_campaign())


def _prospect(campaign_id: int, prospect_id: Any) -> Prospect:
    return load_object(Prospect, prospect_id, campaign=_campaign())


def _check(link: WonLink, check_id: int) -> LinkCheck:
    check = load_object(LinkCheck, check_id, campaign=_campaign())
    if check.won_link_id != link.id:
        abort(404)
    return check


def _link_url(link: WonLink) -> str:
    return url_for("links.show", campaign_id=link.campaign_id, link_id=link.id)


def _prospect_url(prospect: Prospect) -> str:
    return url_for("prospects.show", campaign_id=prospect.campaign_id, prospect_id=prospect.id)


def _today() -> date:
    return utcnow().date()


# --- the Links page -----------------------------------------------------------------------


def _filters(campaigns: list[Campaign]) -> tuple[LinkFilters, Campaign | None]:
    args = request.args
    ids = tuple(c.id for c in campaigns)
    chosen = None
    campaign_id = args.get("campaign", type=int)
    if campaign_id is not None:
        chosen = next((c for c in campaigns if c.id == campaign_id), None)
        if chosen is None:
            abort(403)
        ids = (chosen.id,)
    elif len(campaigns) == 1:
        chosen = campaigns[0]
    flagged = args.get("flagged", "") in ("1", "on", "yes")
    filters = LinkFilters(
        campaign_ids=ids, state=args.get("state", ""), anchor_type=args.get("anchor_type", ""),
        rel=args.get("rel", ""), target=args.get("target", ""), flagged=flagged,
        q=args.get("q", "")[:200], sort=args.get("sort", "placed"),
    )  # fmt: skip
    return filters, chosen


@bp.route("/links")
def index() -> str:
    campaigns = list(db.session.scalars(visible_campaigns_query(_me())))
    filters, chosen = _filters(campaigns)
    stmt = links_query(filters)
    per = 50
    number = page_number()
    total = count_of(stmt)
    items = list(db.session.scalars(stmt.offset((number - 1) * per).limit(per)).unique())
    risk = None
    if chosen is not None:
        target = next((t for t in chosen.target_pages if str(t.id) == filters.target), None)
        risk = campaign_risk(chosen, today=_today(), target_url=target.url if target else None)
    states = {
        state: count_of(links_query(LinkFilters(campaign_ids=filters.campaign_ids, state=state)))
        for state in (s.value for s in LinkState)
    }
    tasks = open_tasks(filters.campaign_ids or ())
    return render_template(
        "links/index.html", page=Page(items, number, per, total), campaigns=campaigns,
        chosen=chosen, f=filters, risk=risk, states=states, tasks=tasks,
        anchor_types=list(AnchorType), rels=list(LinkRel), link_states=list(LinkState),
    )  # fmt: skip


@bp.route("/links/export.csv")
def export_csv() -> Response:
    campaigns = list(db.session.scalars(visible_campaigns_query(_me())))
    filters, _ = _filters(campaigns)
    out = io.StringIO()
    write_csv_rows(out, csv_rows(db.session.scalars(links_query(filters)).unique()))
    name = f"won-links-{_today().isoformat()}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


# --- logging a link -----------------------------------------------------------------------


def _input(form: WonLinkForm) -> LinkInput:
    return LinkInput(
        source_url=form.source_url.data or "", target_url=form.target_url.data or "",
        anchor=form.anchor.data or "", anchor_type=form.anchor_type.data or "",
        rel=form.rel.data or "dofollow", placed_on=form.placed_on.data or None,
        note=form.note.data or "",
    )  # fmt: skip


def _form_prospect(campaign: Campaign, form: WonLinkForm) -> Prospect:
    text = (form.prospect.data or "").strip()
    if not text:
        raise UserError("prospect: enter the prospect's domain", field="prospect")
    try:
        return find_prospect(campaign, text)
    except UserError as exc:
        raise UserError(f"prospect: {exc.message}", field="prospect") from None


@bp.route("/campaigns/<int:campaign_id>/links/new", methods=["GET", "POST"])
def new(campaign_id: int) -> Response | str | tuple[str, int]:
    campaign = _campaign()
    form = WonLinkForm()
    message = load_optional(InboundMessage, request.values.get("message_id"), campaign=campaign)
    if request.method == "GET":
        prospect = load_optional(Prospect, request.args.get("prospect_id"), campaign=campaign)
        if message is not None:
            prospect = message.prospect
            form.message_id.data = str(message.id)
        if prospect is not None:
            form.prospect.data = prospect.domain
            if prospect.target_page is not None:
                form.target_url.data = prospect.target_page.url
        return _form_page(campaign, form, message)
    if not form.validate_on_submit():
        return _form_page(campaign, form, message), 422
    try:
        prospect = _form_prospect(campaign, form)
        if message is not None and message.prospect_id == prospect.id and message.outcome is None:
            from crm.replies.inbox import set_outcome

            set_outcome(message, "positive", actor=_me())
        link = log_won_link(prospect, _input(form), actor=_me(), message=message)
    except UserError as exc:
        db.session.rollback()
        if not attach_user_error(form, exc):
            flash(exc.message, "error")
        return _form_page(campaign, form, message), 422
    db.session.commit()
    check_link_now(link)
    db.session.commit()
    flash(
        f"Link logged; {prospect.domain} is won. First check: {link.state.value} — "
        f"{link.last_check_summary}",
        "ok" if link.state == LinkState.LIVE else "warning",
    )
    return redirect(_link_url(link))


def _form_page(campaign: Campaign, form: WonLinkForm, message: InboundMessage | None) -> str:
    return render_template(
        "links/new.html", campaign=campaign, form=form, message=message,
        preview=_preview(campaign, form), targets=campaign.target_pages,
    )  # fmt: skip


def _preview(campaign: Campaign, form: WonLinkForm) -> dict[str, Any]:
    """The anchor-type suggestion and the risk figures with this link counted in."""
    target_url = (form.target_url.data or "").strip()
    suggestion = suggest_for(campaign, form.anchor.data or "", target_url)
    chosen = form.anchor_type.data or suggestion.anchor_type.value
    try:
        anchor_type = AnchorType(chosen)
    except ValueError:
        anchor_type = suggestion.anchor_type
    placed = _today()
    try:
        if form.placed_on.data:
            placed = date.fromisoformat(form.placed_on.data)
    except ValueError:
        pass
    key = link_key(target_url) if target_url else None
    candidate = None
    typed = bool((form.anchor.data or "").strip())
    if typed or form.anchor_type.data == AnchorType.IMAGE.value:
        candidate = MixLink(anchor=form.anchor.data or "", anchor_type=anchor_type,
                            target_key=key or "", placed_on=placed)  # fmt: skip
    risk = campaign_risk(campaign, today=_today(), target_url=target_url if key else None,
                         candidate=candidate)  # fmt: skip
    return {"suggestion": suggestion if typed else None, "risk": risk,
            "with_candidate": candidate is not None}  # fmt: skip


@bp.route("/campaigns/<int:campaign_id>/links/preview")
def preview(campaign_id: int) -> str:
    """The form's live panel: the suggested anchor type and what saving would do to the mix."""
    form = WonLinkForm(request.args, meta={"csrf": False})
    return render_template("links/_preview.html", preview=_preview(_campaign(), form))


# --- one link -----------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>")
def show(campaign_id: int, link_id: int) -> str:
    link = _won_link(campaign_id, link_id)
    checks = db.session.scalars(
        select(LinkCheck)
        .where(LinkCheck.won_link_id == link.id)
        .order_by(LinkCheck.checked_at.desc(), LinkCheck.id.desc())
        .limit(200)
    ).all()
    tasks = db.session.scalars(
        select(ReclamationTask)
        .where(ReclamationTask.won_link_id == link.id)
        .order_by(ReclamationTask.created_at.desc())
    ).all()
    return render_template(
        "links/show.html", link=link, campaign=_campaign(), checks=checks, tasks=tasks,
        settings=link_settings(link.campaign.settings), csrf_form=FlaskForm(),
        follow_up=_follow_up_draft(link, tasks),
    )  # fmt: skip


class FollowUpForm(FlaskForm):
    body = TextAreaField("Message", validators=[Length(max=20_000)])


def _follow_up_draft(link: WonLink, tasks: Sequence[ReclamationTask]) -> dict[str, Any] | None:
    """The follow-up an open task would send: who, from which mailbox, and the text."""
    if not any(t.state == ReclamationState.OPEN for t in tasks):
        return None
    thread = reclamation_thread(link)
    if thread is None:
        return {"thread": None}
    mailbox = thread.enrollment.mailbox
    subject, body = reclamation_text(link, thread, mailbox.from_name)
    form = FollowUpForm(formdata=None, body=body)
    return {"thread": thread, "mailbox": mailbox, "subject": subject, "form": form}


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>/reclaim", methods=["POST"])
def send_follow_up(campaign_id: int, link_id: int) -> Response:
    """Queue the reclamation follow-up on the original thread (once, whoever clicks)."""
    link = _won_link(campaign_id, link_id)
    form = FollowUpForm()
    if not form.validate_on_submit():
        abort(400)
    task = db.session.scalar(
        select(ReclamationTask)
        .where(ReclamationTask.won_link_id == link.id)
        .where(ReclamationTask.state == ReclamationState.OPEN)
        .order_by(ReclamationTask.created_at.desc())
    )
    if task is None:
        flash("No open reclamation task: the follow-up was already queued or dismissed.", "warning")
        return redirect(_link_url(link))
    try:
        message = follow_up_on_thread(task, actor=_me(), now=utcnow(), body=form.body.data)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_link_url(link))
    db.session.commit()
    flash(f"Follow-up to {message.to_email} queued: it goes out with the next send pass.", "ok")
    return redirect(_link_url(link))


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int, link_id: int) -> Response | str | tuple[str, int]:
    link = _won_link(campaign_id, link_id)
    form = WonLinkForm(obj=None)
    if request.method == "GET":
        form.prospect.data = link.prospect.domain
        form.source_url.data, form.target_url.data = link.source_url, link.target_url
        form.anchor.data, form.anchor_type.data = link.anchor, link.anchor_type.value
        form.rel.data, form.placed_on.data = link.rel.value, link.placed_on.isoformat()
        form.note.data = link.note
        return _edit_page(link, form)
    if not form.validate_on_submit():
        return _edit_page(link, form), 422
    try:
        moved = update_won_link(link, _input(form), actor=_me())
    except UserError as exc:
        db.session.rollback()
        if not attach_user_error(form, exc):
            flash(exc.message, "error")
        return _edit_page(link, form), 422
    db.session.commit()
    if moved:
        check_link_now(link)
        db.session.commit()
    flash("Link saved." + (f" Checked: {link.state.value} — {link.last_check_summary}"
                           if moved else ""), "ok")  # fmt: skip
    return redirect(_link_url(link))


def _edit_page(link: WonLink, form: WonLinkForm) -> str:
    return render_template("links/edit.html", link=link, form=form,
                           targets=link.campaign.target_pages)  # fmt: skip


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>/delete", methods=["POST"])
@requires(Role.MANAGER)
def delete(campaign_id: int, link_id: int) -> Response:
    link = _won_link(campaign_id, link_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    domain = link.prospect.domain
    delete_won_link(link, actor=_me())
    db.session.commit()
    flash(f"Link on {domain} removed. The prospect keeps its status; change it if needed.", "ok")
    return redirect(url_for("links.index", campaign=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>/check", methods=["POST"])
def check_now(campaign_id: int, link_id: int) -> Response:
    link = _won_link(campaign_id, link_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    check_link_now(link)
    db.session.commit()
    flash(f"Checked: {link.state.value} — {link.last_check_summary}",
          "ok" if link.state == LinkState.LIVE else "warning")  # fmt: skip
    return redirect(_link_url(link))


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>/checks/<int:check_id>")
def check_page(campaign_id: int, link_id: int, check_id: int) -> str:
    """The page a check stored, shown as text (escaped), never as live HTML."""
    link = _won_link(campaign_id, link_id)
    check = _check(link, check_id)
    return render_template("links/check_page.html", link=link, check=check, html=check_html(check))


@bp.route("/campaigns/<int:campaign_id>/links/<int:link_id>/dismiss", methods=["POST"])
def dismiss_task(campaign_id: int, link_id: int) -> Response:
    link = _won_link(campaign_id, link_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    tasks = db.session.scalars(
        select(ReclamationTask).where(
            ReclamationTask.won_link_id == link.id, ReclamationTask.state == ReclamationState.OPEN
        )
    ).all()
    for task in tasks:
        task.state, task.closed_at = ReclamationState.DISMISSED, utcnow()
    db.session.commit()
    flash("Reclamation task dismissed." if tasks else "No open reclamation task.", "ok")
    return redirect(_link_url(link))


# --- thresholds ---------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/links/settings", methods=["GET", "POST"])
@requires(Role.MANAGER)
def settings(campaign_id: int) -> Response | str | tuple[str, int]:
    campaign = _campaign()
    current = link_settings(campaign.settings)
    form = LinkSettingsForm()
    if request.method == "GET":
        for name, value in current.as_dict().items():
            shown = value * 100 if name.endswith("_share_max") else value
            getattr(form, name).data = f"{shown:g}"
        return render_template("links/settings.html", campaign=campaign, form=form)
    if not form.validate_on_submit():
        return render_template("links/settings.html", campaign=campaign, form=form), 422
    raw = {name: getattr(form, name).data for name in current.as_dict()}
    for name in ("exact_share_max", "dominant_share_max"):
        if raw[name] not in (None, "") and not str(raw[name]).strip().endswith("%"):
            raw[name] = f"{raw[name]}%"
    try:
        cleaned = clean_link_settings(raw)
    except UserError as exc:
        attach_user_error(form, exc)
        return render_template("links/settings.html", campaign=campaign, form=form), 422
    campaign.settings = {**(campaign.settings or {}), "links": cleaned.as_dict()}
    db.session.commit()
    flash("Link thresholds saved.", "ok")
    return redirect(url_for("links.index", campaign=campaign.id))


# --- unlinked mentions --------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/mentions", methods=["POST"])
def check_mentions(campaign_id: int, prospect_id: int) -> Response:
    prospect = _prospect(campaign_id, prospect_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    from crm.links.checker import make_fetcher

    found = find_unlinked_mentions(prospect, make_fetcher())
    db.session.commit()
    unlinked = sum(m.unlinked for m in found)
    flash(f"{len(found)} page(s) read: {unlinked} mention(s) of us without a link.",
          "ok" if unlinked else "info")  # fmt: skip
    return redirect(_prospect_url(prospect) + "#won-links")


MAX_MENTION_PROSPECTS = 20


@bp.route("/campaigns/<int:campaign_id>/links/mentions", methods=["POST"])
def check_mentions_of(campaign_id: int) -> Response:
    """Unlinked mentions for chosen prospects (their domains, one per line)."""
    campaign = _campaign()
    if not FlaskForm().validate_on_submit():
        abort(400)
    back = url_for("links.index", campaign=campaign.id) + "#mentions"
    domains = lines(request.form.get("domains", ""))
    if not domains:
        flash("Unlinked mentions: enter at least one prospect's domain.", "error")
        return redirect(back)
    if len(domains) > MAX_MENTION_PROSPECTS:
        flash(f"Unlinked mentions: at most {MAX_MENTION_PROSPECTS} prospects at a time "
              "(or use `crm links mentions`).", "error")  # fmt: skip
        return redirect(back)
    try:
        prospects = [find_prospect(campaign, d) for d in domains]
    except UserError as exc:
        flash(f"Unlinked mentions: {exc.message}", "error")
        return redirect(back)
    from crm.links.checker import make_fetcher

    fetcher = make_fetcher()
    found: list[UnlinkedMention] = []
    for prospect in prospects:
        found.extend(m for m in find_unlinked_mentions(prospect, fetcher) if m.unlinked)
        db.session.commit()
    names = sorted({m.prospect.domain for m in found})
    flash(f"{len(prospects)} prospect(s) read: unlinked mentions on "
          + (", ".join(names) if names else "none") + ".", "ok" if names else "info")  # fmt: skip
    return redirect(back)


@bp.route(
    "/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/mentions/angle", methods=["POST"]
)
def use_mention_angle(campaign_id: int, prospect_id: int) -> Response:
    prospect = _prospect(campaign_id, prospect_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    prospect.angle = UNLINKED_ANGLE
    db.session.commit()
    flash(f"{prospect.domain} will be pitched with the unlinked mention angle.", "ok")
    return redirect(_prospect_url(prospect) + "#won-links")


# --- the prospect page ----------------------------------------------------------------------


def links_panel(prospect: Prospect) -> Panel:
    """The prospect's won links, open reclamation tasks and unlinked mentions."""
    links = db.session.scalars(
        select(WonLink).where(WonLink.prospect_id == prospect.id).order_by(WonLink.placed_on.desc())
    ).all()
    tasks = db.session.scalars(
        select(ReclamationTask).where(
            ReclamationTask.prospect_id == prospect.id,
            ReclamationTask.state == ReclamationState.OPEN,
        )
    ).all()
    return Panel("links/_panel.html", {"links": links, "tasks": tasks,
                                       "mentions": mentions_of(prospect),
                                       "angle": UNLINKED_ANGLE})  # fmt: skip
