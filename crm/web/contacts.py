"""Contacts on the prospect page, contacts CSV import, and the suppression list."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Optional

from crm.core.errors import UserError
from crm.core.suppression import suppress, suppression_for
from crm.extensions import db
from crm.models import Contact, Prospect, Role, Suppression
from crm.outreach.contacts import ContactFields, add_contact, import_contacts_csv, update_contact
from crm.web.access import requires
from crm.web.forms import attach_user_error
from crm.web.helpers import Page, page_number
from crm.web.objects import load_object
from crm.web.panels import Panel

bp = Blueprint("contacts", __name__)


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
        description="Columns: domain, email, and optionally first_name, last_name, role, timezone.",
    )


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


@bp.route("/campaigns/<int:campaign_id>/contacts/import", methods=["GET", "POST"])
def import_csv(campaign_id: int) -> Response | str:
    form = ContactImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = import_contacts_csv(g.campaign, upload.read(), upload.filename or "upload.csv")
        except UserError as exc:
            db.session.rollback()
            form.file.errors = [exc.message]
        else:
            db.session.commit()
            extra = f", {len(result.new_prospects)} new prospects" if result.new_prospects else ""
            flash(f"{result.added} contacts added, {result.updated} updated{extra}.", "ok")
            return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    return render_template("contacts/import.html", form=form, campaign=g.campaign)


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
