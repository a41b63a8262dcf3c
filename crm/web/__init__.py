"""Blueprints, one per area; register_all() wires them into the app."""

from __future__ import annotations

from flask import Flask


def register_all(app: Flask) -> None:
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
