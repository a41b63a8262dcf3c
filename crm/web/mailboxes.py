"""Mailboxes (admin): add, edit, pause/resume, test the connection."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Mailbox, Role
from crm.outreach.mailboxes import (
    MAX_DAILY_CAP,
    MAX_SPACING_SECONDS,
    MailboxSettings,
    apply_mailbox_settings,
    create_mailbox,
)
from crm.outreach.windows import WEEKDAYS
from crm.web.access import requires
from crm.web.forms import attach_user_error, choices
from crm.web.objects import load_object

bp = Blueprint("mailboxes", __name__, url_prefix="/settings/mailboxes")

SECURITY = choices(
    [("starttls", "STARTTLS"), ("tls", "TLS (implicit)"), ("none", "None (local only)")]
)


class DaysField(SelectMultipleField):
    """The sending days as one checkbox per weekday; reads a stored "mon,tue" too."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value: object) -> None:
        if isinstance(value, str):
            value = [d.strip() for d in value.split(",") if d.strip()]
        super().process_data(value)


class MailboxForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    from_email = EmailField("From address", validators=[DataRequired()])
    from_name = StringField(
        "Sender name",
        validators=[DataRequired("Give the name recipients see."), Length(max=120)],
        description="What recipients see next to the address; templates use it as sender.name.",
    )
    no_auth = BooleanField("No authentication (a local relay such as Postfix on 127.0.0.1:25)")
    username = StringField(
        "Username",
        validators=[Optional(), Length(max=254)],
        description="Defaults to the from address.",
    )
    password = PasswordField(
        "Password",
        validators=[Optional()],
        description="Stored encrypted. Leave empty to keep the current one.",
    )
    smtp_host = StringField("SMTP host", validators=[DataRequired()])
    smtp_port = IntegerField("SMTP port", default=587, validators=[NumberRange(1, 65535)])
    smtp_security = SelectField("SMTP security", choices=SECURITY, default="starttls")
    imap_host = StringField("IMAP host", validators=[DataRequired()])
    imap_port = IntegerField("IMAP port", default=993, validators=[NumberRange(1, 65535)])
    imap_security = SelectField("IMAP security", choices=SECURITY, default="tls")
    imap_folders = StringField(
        "IMAP folders", default="INBOX", description="Comma separated; replies are read from these."
    )
    daily_cap = IntegerField(
        "Daily cap",
        default=50,
        validators=[NumberRange(1, MAX_DAILY_CAP)],
        description="Emails per day, counted in the mailbox's time zone.",
    )
    min_spacing_seconds = IntegerField(
        "Minimum spacing (seconds)", default=120, validators=[NumberRange(0, MAX_SPACING_SECONDS)]
    )
    window = StringField(
        "Sending window",
        default="09:00-17:00",
        description="HH:MM-HH:MM in the contact's time zone (else the mailbox's).",
    )
    days = DaysField(
        "Days",
        choices=choices([(d, d.capitalize()) for d in WEEKDAYS]),
        default=["mon", "tue", "wed", "thu", "fri"],
        validators=[DataRequired("Choose at least one day.")],
    )
    timezone = StringField("Time zone", default="UTC", description="IANA name, e.g. Europe/London.")


def _settings(form: MailboxForm) -> MailboxSettings:
    return MailboxSettings(
        name=form.name.data or "",
        from_email=form.from_email.data or "",
        from_name=form.from_name.data or "",
        username=form.username.data or "",
        password=form.password.data or None,
        smtp_host=form.smtp_host.data or "",
        smtp_port=form.smtp_port.data or 0,
        smtp_security=form.smtp_security.data or "starttls",
        imap_host=form.imap_host.data or "",
        imap_port=form.imap_port.data or 0,
        imap_security=form.imap_security.data or "tls",
        imap_folders=form.imap_folders.data or "INBOX",
        daily_cap=form.daily_cap.data or 0,
        min_spacing_seconds=form.min_spacing_seconds.data or 0,
        window=form.window.data or "",
        days=",".join(form.days.data or []),
        timezone=form.timezone.data or "",
        no_auth=bool(form.no_auth.data),
    )


def _get(mailbox_id: int) -> Mailbox:
    return load_object(Mailbox, mailbox_id)


@bp.route("")
@requires(Role.ADMIN)
def index() -> str:
    rows = db.session.scalars(select(Mailbox).order_by(Mailbox.name)).all()
    return render_template("mailboxes/index.html", mailboxes=rows)


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new() -> Response | str:
    form = MailboxForm()
    if not form.is_submitted() and not form.from_name.data:
        form.from_name.data = current_user.name  # the creating user's name by default
    if form.validate_on_submit():
        try:
            mailbox = create_mailbox(_settings(form))
            record_audit(
                "mailbox.create", user=current_user, object_type="mailbox", object_id=mailbox.id
            )
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "name")
        else:
            db.session.commit()
            flash(f"Mailbox {mailbox.name} added. Test its connection next.", "ok")
            return redirect(url_for("mailboxes.edit", mailbox_id=mailbox.id))
    return render_template("mailboxes/form.html", form=form, mailbox=None)


@bp.route("/<int:mailbox_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit(mailbox_id: int) -> Response | str:
    mailbox = _get(mailbox_id)
    form = MailboxForm(obj=mailbox)
    if not form.is_submitted():
        form.window.data = f"{mailbox.window_start}-{mailbox.window_end}"
        form.smtp_security.data = mailbox.smtp_security.value
        form.imap_security.data = mailbox.imap_security.value
        form.no_auth.data = not mailbox.username
    if form.validate_on_submit():
        try:
            apply_mailbox_settings(mailbox, _settings(form))
            record_audit(
                "mailbox.update",
                user=current_user,
                object_type="mailbox",
                object_id=mailbox.id,
                password_changed=bool(form.password.data),
            )
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "name")
        else:
            db.session.commit()
            flash(f"Mailbox {mailbox.name} saved.", "ok")
            return redirect(url_for("mailboxes.index"))
    return render_template("mailboxes/form.html", form=form, mailbox=mailbox)


@bp.route("/<int:mailbox_id>/pause", methods=["POST"])
@requires(Role.ADMIN)
def pause(mailbox_id: int) -> Response:
    mailbox = _get(mailbox_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    mailbox.paused = True
    mailbox.paused_reason = f"paused by {current_user.email}"
    db.session.commit()
    flash(f"{mailbox.name} paused: nothing is sent from it until you resume.", "info")
    return redirect(url_for("mailboxes.index"))


@bp.route("/<int:mailbox_id>/resume", methods=["POST"])
@requires(Role.ADMIN)
def resume(mailbox_id: int) -> Response:
    mailbox = _get(mailbox_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    mailbox.paused, mailbox.paused_reason = False, ""
    db.session.commit()
    flash(f"{mailbox.name} resumed.", "ok")
    return redirect(url_for("mailboxes.index"))


@bp.route("/<int:mailbox_id>/test", methods=["POST"])
@requires(Role.ADMIN)
def test(mailbox_id: int) -> str:
    """Log in to SMTP and IMAP with the saved settings; show each server's answer (htmx)."""
    from crm.outreach.probe import check_mailbox_connections

    mailbox = _get(mailbox_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    answers = check_mailbox_connections(mailbox)
    return render_template("mailboxes/_test_result.html", answers=answers)
