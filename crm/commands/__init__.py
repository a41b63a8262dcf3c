"""`crm` sub-commands, one module per area (CONTRACT "Commands")."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask.cli import AppGroup

from crm.core.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])


def register_all(group: AppGroup) -> None:
    from crm.commands import core, gap, inbox, links, outreach, prospects, report, sending, worker

    for area in (core, prospects, gap, outreach, sending, inbox, links, report, worker):
        area.register(group)


def user_errors(fn: F) -> F:
    """Turn a UserError into a one-line message on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from crm.extensions import db

        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None

    return wrapper  # type: ignore[return-value]


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json prints machine-readable JSON on stdout and nothing else.",
)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def read_password_stdin() -> str:
    """Read a password from the first line of standard input."""
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise UserError("no password on standard input")
    return password
