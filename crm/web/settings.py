"""Settings: your account, and (admin) users and roles."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from crm.core.errors import UserError
from crm.core.users import check_password_strength, create_user, update_user
from crm.extensions import db
from crm.models import Role, User
from crm.web.access import requires
from crm.web.forms import attach_user_error, choices

bp = Blueprint("settings", __name__, url_prefix="/settings")

ROLE_CHOICES = choices([(r.value, r.value.capitalize()) for r in Role])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=10)])
    confirm = PasswordField(
        "Repeat new password", validators=[EqualTo("password", "The passwords differ.")]
    )


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="specialist")
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10)])


class EditUserForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active (can sign in)")
    password = PasswordField(
        "New password", validators=[Optional(), Length(min=10)], description="Leave empty to keep."
    )


@bp.route("", methods=["GET", "POST"])
def index() -> Response | str:
    form = PasswordForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()
        if not user.check_password(form.current.data or ""):
            form.current.errors = ["This is not your current password."]
        else:
            try:
                check_password_strength(form.password.data or "")
            except UserError as exc:
                attach_user_error(form, exc)
            else:
                user.set_password(form.password.data or "")
                db.session.commit()
                flash("Password changed.", "ok")
                return redirect(url_for("settings.index"))
    return render_template("settings/index.html", form=form)


@bp.route("/users")
@requires(Role.ADMIN)
def users() -> str:
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template("settings/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new_user() -> Response | str:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                form.email.data or "",
                form.role.data or "specialist",
                form.password.data or "",
                form.name.data or "",
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "email")
        else:
            db.session.commit()
            flash(f"User {user.email} created.", "ok")
            return redirect(url_for("settings.users"))
    return render_template("settings/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_user(user_id: int) -> Response | str:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm(obj=user)
    if not form.is_submitted():
        form.role.data = user.role.value
    if form.validate_on_submit():
        try:
            update_user(
                user,
                name=form.name.data or "",
                role=Role(form.role.data),
                active=bool(form.active.data),
                password=form.password.data or None,
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc, "role")
        else:
            db.session.commit()
            flash(f"User {user.email} saved.", "ok")
            return redirect(url_for("settings.users"))
    return render_template("settings/user_form.html", form=form, user=user)
