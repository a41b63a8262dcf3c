"""Reports › Weekly digest: a manager opts in, chooses the mailbox it comes from, previews it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Mailbox, Role, User, utcnow
from crm.reports.digest_service import compose_digest, set_subscription, subscription_of
from crm.web.access import requires
from crm.web.forms import attach_user_error, choices
from crm.web.objects import load_optional, visible


class DigestForm(FlaskForm):
    enabled = BooleanField("Email me the weekly digest (Mondays)")
    mailbox = SelectField("Send it from", coerce=str, validate_choice=False)


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _form() -> DigestForm:
    form = DigestForm()
    mailboxes = db.session.scalars(visible(Mailbox, select(Mailbox).order_by(Mailbox.name)))
    form.mailbox.choices = choices(
        [("", "(choose a mailbox)")]
        + [(str(m.id), f"{m.name} <{m.from_email}>") for m in mailboxes]
    )
    return form


def _page(form: DigestForm, status: int = 200) -> Any:
    subject, body = compose_digest(_me(), utcnow())
    html = render_template("reports/digest.html", form=form, subject=subject, body=body,
                           subscription=subscription_of(_me()))  # fmt: skip
    return html, status


@requires(Role.MANAGER)
def digest() -> Any:
    form = _form()
    found = subscription_of(_me())
    form.enabled.data = found is not None
    form.mailbox.data = str(found.mailbox_id) if found and found.mailbox_id else ""
    return _page(form)


@requires(Role.MANAGER)
def save_digest() -> Any:
    form = _form()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        mailbox = load_optional(Mailbox, form.mailbox.data)
        set_subscription(_me(), mailbox, bool(form.enabled.data))
    except UserError as error:
        db.session.rollback()
        attach_user_error(form, error, "mailbox")
        return _page(form, 400)
    db.session.commit()
    flash("You will get the weekly digest on Mondays." if form.enabled.data
          else "The weekly digest is off.", "ok")  # fmt: skip
    return redirect(url_for("reports.digest"))
