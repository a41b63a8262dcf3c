"""The do-not-contact list: addresses and whole domains (services: flush only)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from crm.core.errors import UserError
from crm.extensions import db
from crm.models import Role, Suppression, SuppressionKind, User


def normalise_suppression(value: str) -> tuple[SuppressionKind, str]:
    """Tell an address from a domain and normalise it (domain -> registrable domain)."""
    from crm.core.domains import DomainError, registrable_domain

    text = value.strip().lower()
    if not text:
        raise UserError("nothing to suppress: give an email address or a domain")
    if "@" in text:
        from crm.core.users import normalise_login_email

        return SuppressionKind.ADDRESS, normalise_login_email(text)
    try:
        return SuppressionKind.DOMAIN, registrable_domain(text)
    except DomainError as exc:
        raise UserError(f"invalid domain {value.strip()!r}: {exc}") from exc


def suppress(value: str, reason: str = "", *, actor: User | None = None) -> Suppression:
    """Add an address or domain to the suppression list (idempotent).

    A whole domain is a manager's or an admin's call; a specialist suppresses addresses.
    """
    kind, normalised = normalise_suppression(value)
    if kind is SuppressionKind.DOMAIN and actor is not None and not actor.has_role(Role.MANAGER):
        raise UserError(
            "only managers and admins suppress a whole domain: enter the address instead",
            field="value",
        )
    existing = db.session.scalar(select(Suppression).where(Suppression.value == normalised))
    if existing is not None:
        return existing
    entry = Suppression(
        kind=kind,
        value=normalised,
        reason=reason.strip(),
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def suppression_for(address: str) -> Suppression | None:
    """Return the entry that forbids emailing this address (the address or its domain)."""
    from crm.core.domains import email_domain

    address = address.strip().lower()
    candidates = [address, email_domain(address)] if "@" in address else [address]
    return db.session.scalar(select(Suppression).where(Suppression.value.in_(candidates)))


def listed_suppressions(emails: Iterable[str]) -> frozenset[str]:
    """Return the list's values that name these addresses or their domains (batched)."""
    from crm.core.domains import email_domain

    addresses = set(emails)
    values = sorted(addresses | {email_domain(email) for email in addresses})
    listed: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        listed.update(
            db.session.scalars(select(Suppression.value).where(Suppression.value.in_(chunk)))
        )
    return frozenset(listed)


def suppressed_addresses(emails: Iterable[str]) -> set[str]:
    """Return the addresses on the do-not-contact list, by address or by domain (batched)."""
    from crm.core.domains import email_domain

    addresses = set(emails)
    listed = listed_suppressions(addresses)
    return {e for e in addresses if e in listed or email_domain(e) in listed}


def is_suppressed(address: str) -> bool:
    return suppression_for(address) is not None
