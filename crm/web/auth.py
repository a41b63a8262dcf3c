"""Sign in and out: failed attempts limited per account and per address, sessions revocable."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from crm.core.audit import record_audit
from crm.core.users import find_user_by_email
from crm.extensions import db
from crm.models import User, utcnow
from crm.web.access import public
from crm.web.auth_limits import failure_store, limits_for

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254)], render_kw={"autofocus": True}
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")


@cache
def _dummy_hash() -> str:
    # Hashed like a real password, so an unknown address costs the same time as a known one.
    return generate_password_hash("not-a-password-of-anyone", method="scrypt")


def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)


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


def _new_session() -> None:
    """Start an empty session: nothing set before signing in (or out) carries over."""
    session.clear()
    # The CSRF token this request cached belonged to the old session.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        store, now = failure_store(), utcnow()
        limits = limits_for(email, request.remote_addr or "", current_app.config)
        if store.blocked(limits, now):
            form.password.errors = ["Too many failed sign-ins. Wait a few minutes and try again."]
            page = render_template("auth/login.html", form=form)
            return page, 429
        user = find_user_by_email(email)
        # The password is checked first, so a deactivated account answers like any other.
        if _password_matches(user, form.password.data or "") and user and user.active:
            store.forget(limits[-1])
            _new_session()
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
        store.record(limits, now)
        db.session.commit()
        form.password.errors = ["Wrong email or password."]
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    user: User = current_user._get_current_object()
    # Ends this session, any copy of its cookie and the remember-me token, on every device.
    user.revoke_sessions()
    db.session.commit()
    logout_user()
    _new_session()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
