"""Form pieces shared by several blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from crm.core.errors import UserError


def attach_user_error(form: FlaskForm, error: UserError, default_field: str | None = None) -> bool:
    """Put a service's UserError next to its field; return False when no field took it."""
    name = error.field or default_field
    field: Field | None = getattr(form, name, None) if name else None
    if field is None:
        return False
    # WTForms leaves `errors` a tuple until validation ran.
    field.errors = [*field.errors, error.message]
    return True


def lines(value: str | None) -> list[str]:
    """Split a textarea into its non-empty lines (commas also separate)."""
    if not value:
        return []
    return [p.strip() for chunk in value.splitlines() for p in chunk.split(",") if p.strip()]


def choices(pairs: list[tuple[str, str]] | list[str]) -> list[SelectChoice]:
    """Build select choices from (value, label) pairs or plain values (WTForms 3.3 API)."""
    out = []
    for pair in pairs:
        value, label = (pair, pair) if isinstance(pair, str) else pair
        out.append(SelectChoice(value, label))
    return out
