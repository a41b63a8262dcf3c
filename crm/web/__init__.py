"""Blueprints, one per area; register_all() wires them into the app."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from crm.core.ids import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:…>` in a URL: a number past any id the database holds matches no route (404).

    Werkzeug's own converter takes any length; the database then fails on it
    ("integer out of range" on PostgreSQL, OverflowError on SQLite) with a 500.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_all(app: Flask) -> None:
    # Before any blueprint: a rule binds its converters when it is added.
    app.url_map.converters["int"] = IdConverter
    from crm.web import (
        auth,
        campaigns,
        contacts,
        demo,
        gap,
        home,
        inbox,
        links,
        mailboxes,
        outbox,
        prospects,
        reports,
        sequences,
        settings,
        unsubscribe,
    )

    for module in (
        auth,
        home,
        campaigns,
        prospects,
        gap,
        contacts,
        sequences,
        outbox,
        mailboxes,
        inbox,
        links,
        reports,
        settings,
        unsubscribe,
        demo,
    ):
        app.register_blueprint(module.bp)
