"""Refuse request values no page can use, before any view reads them."""

from __future__ import annotations

from flask import abort, request


def refuse_nul_characters() -> None:
    """Answer 400 when a path, query or form value, or an upload's name, holds a NUL character.

    No form sends one, and PostgreSQL cannot store or compare text holding it:
    a search for "a\\x00b" would fail inside the query instead of finding nothing.
    """
    values = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values += request.form.items(multi=True)
        values += [(name, f.filename) for name, f in request.files.items(multi=True)]
    for name, value in values:
        if isinstance(value, str) and "\x00" in value:
            abort(400, f"The value of “{name[:40]}” holds a NUL character, which no text may.")
