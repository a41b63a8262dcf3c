"""The Inbox: replies, triage, bounces and auto-replies; reply outcomes by keyboard; assigning a
message by hand; the thread on the prospect page; notifications in the nav."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import (
    Enrollment,
    InboundMessage,
    Mailbox,
    MailboxFolder,
    Notification,
    Prospect,
    Role,
    Touch,
    User,
    utcnow,
)
from crm.outreach.one_offs import reply_to_inbound
from crm.replies.inbox import (
    KIND_LABELS,
    TABS,
    assign_to_prospect,
    count_of,
    dismiss,
    inbox_query,
    prospects_for_assignment,
    set_outcome,
)
from crm.replies.notifications import (
    mark_notifications_read,
    message_path,
    unread_notifications,
)
from crm.replies.triage import confirm_suggestion, suggested_action
from crm.web.access import visible_campaigns_query
from crm.web.auth import safe_next
from crm.web.forms import attach_user_error
from crm.web.helpers import Page, page_number
from crm.web.inbox_reply import ReplyForm, can_reply, conversation_one_offs, reply_context
from crm.web.objects import load_object, load_optional
from crm.web.panels import Panel

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

# What a row shows (its prospect and campaign, the suggestion's contact), loaded for the
# whole page at once rather than row by row.
_ROW_LOADS = (
    selectinload(InboundMessage.prospect).joinedload(Prospect.campaign),
    selectinload(InboundMessage.matched_touch)
    .joinedload(Touch.enrollment)
    .joinedload(Enrollment.contact),
)

OUTCOME_KEYS = (("positive", "1", "p"), ("neutral", "2", "u"), ("negative", "3", "n"))


@bp.app_context_processor
def notification_count() -> dict[str, Any]:
    """`unread_notifications()` for the nav; computed only when a page asks for it."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return unread_notifications(current_user)

    return {"unread_notifications": count}


@bp.app_context_processor
def inbox_helpers() -> dict[str, Any]:
    """`inbox_suggestion(m)`: what a person may still confirm about a message."""
    return {"inbox_suggestion": suggested_action}


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _message(message_id: int) -> InboundMessage:
    return load_object(InboundMessage, message_id)


def _flag(name: str) -> bool:
    return request.args.get(name, "") in ("1", "on", "yes", "true")


@bp.route("")
def index() -> str:
    user = _me()
    tab = request.args.get("tab", "replies")
    if tab not in TABS:
        tab = "replies"
    campaigns = list(db.session.scalars(visible_campaigns_query(user)))
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id is not None and campaign_id not in {c.id for c in campaigns}:
        abort(403)
    todo, unrelated = _flag("todo"), _flag("unrelated")
    filters: dict[str, Any] = {"campaign_id": campaign_id if tab != "triage" else None}
    stmt = inbox_query(
        user, tab=tab, todo=todo and tab == "replies", include_unrelated=unrelated, **filters
    )
    per = int(_config("PAGE_SIZE", 50))
    number = page_number()
    total = count_of(stmt)
    rows = stmt.options(*_ROW_LOADS).offset((number - 1) * per).limit(per)
    items = list(db.session.scalars(rows))
    counts = {
        "replies_todo": count_of(inbox_query(user, tab="replies", todo=True, **filters)),
        "triage": count_of(inbox_query(user, tab="triage")),
    }
    hidden_unrelated = 0
    if tab == "triage" and not unrelated:
        hidden_unrelated = count_of(inbox_query(user, tab="triage", include_unrelated=True)) - total
    return render_template(
        "inbox/index.html",
        tab=tab,
        tabs=TABS,
        page=Page(items, number, per, total),
        campaigns=campaigns,
        campaign_id=campaign_id,
        todo=todo,
        unrelated=unrelated,
        hidden_unrelated=hidden_unrelated,
        counts=counts,
        folders=_folder_problems(user),
        csrf_form=FlaskForm(),
        labels=KIND_LABELS,
        outcome_keys=OUTCOME_KEYS,
    )


def _config(name: str, default: Any) -> Any:
    from flask import current_app

    return current_app.config.get(name) or default


def _folder_problems(user: User) -> list[Any]:
    """Folders the poller could not read last time (managers and admins see them)."""
    if not user.has_role(Role.MANAGER):
        return []
    return list(
        db.session.execute(
            select(Mailbox.name, MailboxFolder.folder, MailboxFolder.last_error, Mailbox.paused)
            .join(Mailbox, Mailbox.id == MailboxFolder.mailbox_id)
            .where(MailboxFolder.last_error != "")
            .order_by(Mailbox.name, MailboxFolder.folder)
        ).all()
    )


@bp.route("/messages/<int:message_id>")
def show(message_id: int) -> str:
    message = _message(message_id)
    if mark_notifications_read(_me(), link=message_path(message.id)):
        db.session.commit()
    return _show_page(message)


def _show_page(message: InboundMessage, reply_form: ReplyForm | None = None) -> str:
    query = request.args.get("q")
    if query is None and message.prospect_id is None:
        query = message.from_address.rpartition("@")[2]
    candidates = prospects_for_assignment(_me(), query or "") if query else []
    return render_template(
        "inbox/show.html",
        m=message,
        q=query or "",
        candidates=candidates,
        labels=KIND_LABELS,
        outcome_keys=OUTCOME_KEYS,
        csrf_form=FlaskForm(),
        **reply_context(message, reply_form),
    )


@bp.route("/messages/<int:message_id>/reply", methods=["POST"])
def reply(message_id: int) -> Response | str:
    message = _message(message_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _show_page(message, form)
    if not can_reply(message):
        flash("Only a person's reply can be answered from here.", "error")
        return _back(message)
    try:
        queued = reply_to_inbound(message, form.body.data or "", _me(), utcnow())
    except UserError as exc:
        db.session.rollback()
        attach_user_error(form, exc, "body")
        return _show_page(message, form)
    db.session.commit()
    flash(
        f"Reply to {queued.to_email} queued: it goes out from {queued.mailbox.from_email}"
        " with the next send pass, in the same thread.",
        "ok",
    )
    return _back(message)


def _back(message: InboundMessage) -> Response:
    fallback = url_for("inbox.show", message_id=message.id)
    return redirect(safe_next(request.form.get("next"), fallback))


@bp.route("/messages/<int:message_id>/outcome", methods=["POST"])
def outcome(message_id: int) -> Response | str:
    message = _message(message_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        set_outcome(message, request.form.get("outcome", ""), actor=_me())
    except UserError as exc:
        db.session.rollback()
        if request.headers.get("HX-Request"):  # htmx swaps only 2xx answers: show it in the row
            return render_template(
                "inbox/_row.html", m=message, error=exc.message, labels=KIND_LABELS,
                outcome_keys=OUTCOME_KEYS,
            )  # fmt: skip
        flash(exc.message, "error")
        return _back(message)
    db.session.commit()
    if request.headers.get("HX-Request"):
        return render_template(
            "inbox/_row.html", m=message, labels=KIND_LABELS, outcome_keys=OUTCOME_KEYS
        )
    flash(f"Reply from {message.from_address} marked {message.outcome}.", "ok")
    return _back(message)


@bp.route("/messages/<int:message_id>/assign", methods=["POST"])
def assign(message_id: int) -> Response:
    message = _message(message_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    prospect = load_optional(Prospect, request.form.get("prospect_id"))
    if prospect is None:
        flash("Choose a prospect to assign this message to.", "error")
        return redirect(url_for("inbox.show", message_id=message.id))
    try:
        done = assign_to_prospect(message, prospect, actor=_me())
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("inbox.show", message_id=message.id))
    db.session.commit()
    flash(f"Assigned to {prospect.domain}: " + ("; ".join(done) or "nothing else changed"), "ok")
    return redirect(url_for("inbox.show", message_id=message.id))


@bp.route("/messages/<int:message_id>/confirm", methods=["POST"])
def confirm(message_id: int) -> Response:
    message = _message(message_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        done = confirm_suggestion(message, actor=_me())
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(message)
    db.session.commit()
    flash("Confirmed: " + "; ".join(done), "ok")
    return _back(message)


@bp.route("/messages/<int:message_id>/dismiss", methods=["POST"])
def dismiss_message(message_id: int) -> Response:
    message = _message(message_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        dismiss(message, actor=_me())
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("inbox.show", message_id=message.id))
    db.session.commit()
    flash(f"Message from {message.from_address} dismissed from triage.", "ok")
    return redirect(url_for("inbox.index", tab="triage"))


# --- notifications -------------------------------------------------------------------


@bp.route("/notifications")
def notifications() -> str:
    user = _me()
    stmt = select(Notification).where(Notification.user_id == user.id)
    total = count_of(stmt)
    number, per = page_number(), 50
    items = db.session.scalars(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((number - 1) * per)
        .limit(per)
    ).all()
    return render_template(
        "inbox/notifications.html",
        page=Page(list(items), number, per, total),
        csrf_form=FlaskForm(),
    )


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
def open_notification(notification_id: int) -> Response:
    note = load_object(Notification, notification_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    mark_notifications_read(_me(), notification_id=note.id)
    db.session.commit()
    return redirect(safe_next(note.link, url_for("inbox.notifications")))


@bp.route("/notifications/read", methods=["POST"])
def read_all() -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    done = mark_notifications_read(_me())
    db.session.commit()
    flash(f"{done} notification(s) marked read.", "ok")
    return redirect(url_for("inbox.notifications"))


# --- the prospect page -----------------------------------------------------------------


def thread_panel(prospect: Prospect) -> Panel:
    """Our touches, their replies and our replies from the app: one conversation, in order."""
    entries: list[dict[str, Any]] = []
    sent = db.session.execute(
        select(Touch, Enrollment)
        .join(Enrollment, Enrollment.id == Touch.enrollment_id)
        .where(Enrollment.prospect_id == prospect.id, Touch.sent_at.is_not(None))
    ).all()
    for touch, enrollment in sent:
        entries.append({"at": touch.sent_at, "touch": touch, "to": enrollment.contact.email,
                        "mailbox": enrollment.mailbox})  # fmt: skip
    received = db.session.scalars(
        select(InboundMessage).where(InboundMessage.prospect_id == prospect.id)
    ).all()
    for message in received:
        entries.append({"at": message.received_at, "message": message})
    entries += conversation_one_offs(prospect)
    entries.sort(key=lambda e: e["at"])
    last_reply = next(
        (e["message"] for e in reversed(entries) if "message" in e and can_reply(e["message"])),
        None,
    )
    return Panel(
        "inbox/_thread.html",
        {"entries": entries, "labels": KIND_LABELS, "answer": last_reply,
         "reply_form": ReplyForm(formdata=None) if last_reply is not None else None},
    )  # fmt: skip
