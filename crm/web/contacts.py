"""Contacts on the prospect page, contacts CSV import, and the suppression list."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from crm.core.errors import UserError
from crm.core.suppression import suppress, suppression_for
from crm.extensions import db
from crm.models import Contact, Prospect, Role, Suppression
from crm.outreach.contact_columns import FIELDS, guess_mapping
from crm.outreach.contacts import (
    ContactFields,
    ContactImportResult,
    add_contact,
    contacts_csv_header,
    import_contacts_csv,
    read_bounded,
    update_contact,
)
from crm.web.access import requires
from crm.web.forms import attach_user_error, choices
from crm.web.helpers import Page, page_number
from crm.web.objects import load_object
from crm.web.panels import Panel

bp = Blueprint("contacts", __name__)

# How long an upload waits for its columns to be mapped.
PENDING_SECONDS = 24 * 3600


class ContactForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    first_name = StringField("First name", validators=[Optional(), Length(max=80)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=80)])
    role = StringField("Role", validators=[Optional(), Length(max=120)])
    timezone = StringField(
        "Time zone",
        validators=[Optional(), Length(max=64)],
        description="IANA name; empty uses the mailbox's.",
    )


class ContactImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired()],
        description="Columns: email, and optionally domain, first name, last name, role, "
        "time zone. Other headers can be matched to these on the next step.",
    )


class ContactMappingForm(FlaskForm):
    token = HiddenField()
    filename = HiddenField()
    email = SelectField("Email (required)", validators=[DataRequired("Choose the email column")])
    domain = SelectField(FIELDS["domain"], default="")
    first_name = SelectField(FIELDS["first_name"], default="")
    last_name = SelectField(FIELDS["last_name"], default="")
    role = SelectField(FIELDS["role"], default="")
    timezone = SelectField(FIELDS["timezone"], default="")


class SuppressForm(FlaskForm):
    value = StringField("Address or domain", validators=[DataRequired(), Length(max=254)])
    reason = StringField("Reason", validators=[Optional(), Length(max=200)])


def contacts_panel(prospect: Prospect) -> Panel:
    """The contacts of a prospect with their suppression state, and the add form."""
    rows = [(c, suppression_for(c.email)) for c in prospect.contacts]
    return Panel("contacts/_panel.html", {"rows": rows, "form": ContactForm()})


def _prospect(campaign_id: int, prospect_id: int) -> Prospect:
    return load_object(Prospect, prospect_id, campaign=g.campaign)


def _contact(prospect: Prospect, contact_id: int) -> Contact:
    contact = load_object(Contact, contact_id, campaign=g.campaign)
    if contact.prospect_id != prospect.id:
        abort(404)
    return contact


def _prospect_url(prospect: Prospect) -> str:
    return url_for("prospects.show", campaign_id=prospect.campaign_id, prospect_id=prospect.id)


def _fields(form: ContactForm) -> ContactFields:
    return ContactFields(
        form.email.data or "",
        form.first_name.data or "",
        form.last_name.data or "",
        form.role.data or "",
        form.timezone.data or "",
    )


@bp.route("/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/contacts", methods=["POST"])
def add(campaign_id: int, prospect_id: int) -> Response | tuple[str, int]:
    prospect = _prospect(campaign_id, prospect_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contact = add_contact(prospect, _fields(form))
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "email")
        else:
            db.session.commit()
            flash(f"Contact {contact.email} saved.", "ok")
            return redirect(_prospect_url(prospect) + "#contacts")
    return render_template("contacts/edit.html", form=form, prospect=prospect, contact=None), 422


@bp.route(
    "/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/contacts/<int:contact_id>",
    methods=["GET", "POST"],
)
def edit(campaign_id: int, prospect_id: int, contact_id: int) -> Response | str:
    prospect = _prospect(campaign_id, prospect_id)
    contact = _contact(prospect, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            update_contact(contact, _fields(form))
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "email")
        else:
            db.session.commit()
            flash(f"Contact {contact.email} saved.", "ok")
            return redirect(_prospect_url(prospect) + "#contacts")
    return render_template("contacts/edit.html", form=form, prospect=prospect, contact=contact)


@bp.route(
    "/campaigns/<int:campaign_id>/prospects/<int:prospect_id>/contacts/<int:contact_id>/delete",
    methods=["POST"],
)
def delete(campaign_id: int, prospect_id: int, contact_id: int) -> Response:
    prospect = _prospect(campaign_id, prospect_id)
    contact = _contact(prospect, contact_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        db.session.delete(contact)
        db.session.commit()
    except Exception:
        db.session.rollback()
        flash(
            "This contact has sequence history and cannot be deleted; suppress it instead.", "error"
        )
    else:
        flash("Contact removed.", "ok")
    return redirect(_prospect_url(prospect) + "#contacts")


def _upload_path(campaign_id: int, token: str) -> Path | None:
    """Return where a pending upload of this user and campaign is kept (None: a bad token)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", token or ""):
        return None
    folder = Path(current_app.instance_path) / "contact_imports"
    return folder / f"{campaign_id}-{current_user.id}-{token}.csv"


def _keep_upload(campaign_id: int, data: bytes) -> str:
    """Keep an upload until its columns are mapped; drop pending ones older than a day."""
    token = secrets.token_urlsafe(24)
    path = _upload_path(campaign_id, token)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - PENDING_SECONDS
    for old in path.parent.glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    path.write_bytes(data)
    return token


def _mapper(form: ContactMappingForm, header: list[str], guess: dict[str, int]) -> None:
    columns = [("", "— not in the file —")] + [(h, h or f"column {i + 1}") for i, h in
                                                enumerate(header)]  # fmt: skip
    for name in FIELDS:
        select_field = getattr(form, name)
        select_field.choices = choices(columns)
        if not select_field.data and name in guess:
            select_field.data = header[guess[name]]


def _imported(campaign_id: int, result: ContactImportResult) -> Response:
    db.session.commit()
    extra = f", {len(result.new_prospects)} new prospects" if result.new_prospects else ""
    flash(f"{result.added} contacts added, {result.updated} updated{extra}.", "ok")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/contacts/import", methods=["GET", "POST"])
def import_csv(campaign_id: int) -> Response | tuple[str, int] | str:
    """Import a contacts CSV; a file with headers we do not know gets a column mapper first.

    The mapper is skipped when every column is recognised, or every field already has one.
    """
    form = ContactImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = (upload.filename or "").strip()[:200] or "upload.csv"
        try:
            data = read_bounded(upload.stream, filename)
            header = contacts_csv_header(data, filename)
            guess = guess_mapping(header)
            unknown = len(header) > len(guess) and len(guess) < len(FIELDS)
            if "email" not in guess or unknown:
                mapper = ContactMappingForm(formdata=None, token=_keep_upload(campaign_id, data),
                                            filename=filename)  # fmt: skip
                _mapper(mapper, header, guess)
                return _mapper_page(mapper, filename)
            result = import_contacts_csv(g.campaign, data, filename)
        except UserError as exc:
            db.session.rollback()
            form.file.errors = [exc.message]
        else:
            return _imported(campaign_id, result)
    return render_template("contacts/import.html", form=form, campaign=g.campaign)


@bp.route("/campaigns/<int:campaign_id>/contacts/import/map", methods=["POST"])
def import_mapped(campaign_id: int) -> Response | tuple[str, int]:
    """Import a kept upload with the columns the user chose."""
    mapper = ContactMappingForm()
    path = _upload_path(campaign_id, mapper.token.data or "")
    filename = (mapper.filename.data or "").strip()[:200] or "upload.csv"
    if path is None or not path.is_file():
        flash("That upload is no longer kept; choose the file again.", "error")
        return redirect(url_for("contacts.import_csv", campaign_id=campaign_id))
    data = path.read_bytes()
    try:
        header = contacts_csv_header(data, filename)
    except UserError as exc:
        flash(exc.message, "error")
        return redirect(url_for("contacts.import_csv", campaign_id=campaign_id))
    _mapper(mapper, header, {})
    if mapper.validate_on_submit():
        mapping = {name: getattr(mapper, name).data or "" for name in FIELDS}
        try:
            result = import_contacts_csv(g.campaign, data, filename, mapping)
        except UserError as exc:
            db.session.rollback()
            if not attach_user_error(mapper, exc):
                mapper.form_errors.append(exc.message)
        else:
            path.unlink(missing_ok=True)
            return _imported(campaign_id, result)
    return _mapper_page(mapper, filename, 422)


def _mapper_page(mapper: ContactMappingForm, filename: str, status: int = 200) -> tuple[str, int]:
    return render_template("contacts/import_map.html", mapper=mapper, filename=filename,
                           campaign=g.campaign), status  # fmt: skip


@bp.route("/suppressions", methods=["GET", "POST"])
def suppressions() -> Response | str:
    form = SuppressForm()
    if form.validate_on_submit():
        try:
            entry = suppress(form.value.data or "", form.reason.data or "", actor=current_user)
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "value")
        else:
            db.session.commit()
            flash(f"{entry.value} will never be emailed.", "ok")
            return redirect(url_for("contacts.suppressions"))
    q = request.args.get("q", "").strip().lower()
    stmt = select(Suppression)
    if q:
        stmt = stmt.where(Suppression.value.contains(q))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number, per = page_number(), 50
    items = db.session.scalars(
        stmt.order_by(Suppression.created_at.desc()).offset((number - 1) * per).limit(per)
    ).all()
    page = Page(list(items), number, per, total)
    return render_template("contacts/suppressions.html", form=form, page=page, q=q)


@bp.route("/suppressions/<int:suppression_id>/delete", methods=["POST"])
@requires(Role.MANAGER)
def unsuppress(suppression_id: int) -> Response:
    entry = db.session.get(Suppression, suppression_id)
    if entry is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    db.session.delete(entry)
    db.session.commit()
    flash(f"{entry.value} removed from the suppression list.", "ok")
    return redirect(url_for("contacts.suppressions"))
