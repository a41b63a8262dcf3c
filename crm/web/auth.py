"""Sign in and out, with throttling of failed attempts."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from crm.core.audit import record_audit
from crm.core.users import find_user_by_email
from crm.extensions import db, limiter
from crm.models import utcnow
from crm.web.access import public

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()], render_kw={"autofocus": True})
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in")


def _login_limit() -> str:
    return f"{current_app.config['LOGIN_FAILURES_PER_MINUTE']}/minute"


def _failed(response: Response) -> bool:
    # Only failed attempts count toward the limit: a successful sign-in redirects.
    return request.method == "POST" and response.status_code != 302


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """Return `target` when it is a path on this site, else `fallback` (never an open redirect)."""
    fallback = fallback or url_for("home.index")
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    # Browsers read a backslash as a slash ("/\\evil.example") and drop tabs and newlines.
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data or "")
        if user is not None and user.active and user.check_password(form.password.data or ""):
            login_user(user, remember=bool(form.remember.data))
            user.last_login_at = utcnow()
            record_audit(
                "user.login",
                user=user,
                object_type="user",
                object_id=user.id,
                ip=request.remote_addr or "",
            )
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        form.password.errors = ["Wrong email or password."]
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
