"""Users, roles and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from crm.extensions import db
from crm.models.base import UTCDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    SPECIALIST = "specialist"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.SPECIALIST: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.SPECIALIST)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of the id every session cookie and remember token carries (Flask-Login's
    # alternative id): raising it signs the user out everywhere.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.revoke_sessions()

    def revoke_sessions(self) -> None:
        """End every session and remember-me token this user holds."""
        self.session_version = (self.session_version or 1) + 1

    def get_id(self) -> str:
        """Return the id sessions and remember tokens carry: the user's id and session version."""
        return f"{self.id}:{self.session_version}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def has_role(self, role: Role) -> bool:
        return self.role.at_least(role)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class SignInFailure(db.Model):  # type: ignore[name-defined]
    """One failed sign-in, counted per account and per client address (shared by every process)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "account:<email>" or "address:<ip>"
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(db.Model):  # type: ignore[name-defined]
    """Who did what, when: security-relevant and bulk changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
