"""Create and change users."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from crm.core.audit import record_audit
from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Role, User

MIN_PASSWORD_LENGTH = 10


def normalise_login_email(raw: str) -> str:
    """Validate an address syntactically (no DNS) and return it lower-cased."""
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserError(f"invalid email address {raw.strip()!r}: {exc}", field="email") from exc
    return info.normalized.lower()


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UserError(f"unknown role {raw!r}: choose one of {choices}", field="role") from None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"password too short: use at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def create_user(
    email: str, role: Role | str, password: str, name: str = "", *, actor: User | None = None
) -> User:
    """Add a user; refuses a duplicate address, a bad role or a weak password."""
    address = normalise_login_email(email)
    role = parse_role(role) if isinstance(role, str) else role
    check_password_strength(password)
    if find_user_by_email(address) is not None:
        raise UserError(f"a user with email {address} already exists", field="email")
    user = User(email=address, role=role, name=name.strip())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit("user.create", user=actor, object_type="user", object_id=user.id, role=role.value)
    return user


def update_user(
    user: User,
    *,
    name: str,
    role: Role,
    active: bool,
    password: str | None = None,
    actor: User | None = None,
) -> None:
    """Change a user's name, role, active flag and optionally the password."""
    if actor is not None and actor.id == user.id and (role != user.role or not active):
        raise UserError("you cannot change your own role or deactivate yourself", field="role")
    if password:
        check_password_strength(password)
        user.set_password(password)
    if user.active and not active:
        user.revoke_sessions()  # reactivating later must not revive old cookies
    user.name, user.role, user.active = name.strip(), role, active
    record_audit(
        "user.update",
        user=actor,
        object_type="user",
        object_id=user.id,
        role=role.value,
        active=active,
        password_changed=bool(password),
    )
