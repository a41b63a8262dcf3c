"""The `crm` command: a Flask CLI group bound to create_app."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_cli(app: Flask) -> None:
    from crm.commands import register_all

    register_all(app.cli)  # type: ignore[arg-type]


def _create_app() -> Flask:
    from crm import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """Linkgap: outreach CRM for link-building teams."""


def main() -> None:
    cli(prog_name="crm", standalone_mode=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
