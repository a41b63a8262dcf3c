"""Template helpers, pagination and response headers shared by every blueprint."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from crm.core.ids import parse_whole
from crm.core.wording import counted, thousands
from crm.models import Role

NAV = [
    ("Campaigns", "campaigns.index"),
    ("Prospects", "prospects.index"),
    ("Sequences", "sequences.index"),
    ("Inbox", "inbox.index"),
    ("Links", "links.index"),
    ("Reports", "reports.index"),
    ("Settings", "settings.index"),
]


@dataclass(frozen=True)
class Page:
    """One page of a server-side paginated table."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


class Options:
    """The <option> elements of a fixed list of (value, label) choices, escaped once."""

    # A Jinja loop costs an escape and a Markup per value and label on every
    # render; the gap table's filter and bulk bars have ~40 options.
    def __init__(self, choices: Iterable[tuple[Any, Any]]) -> None:
        self._choices = [
            (value, f'<option value="{escape(value)}"', f">{escape(label)}</option>")
            for value, label in choices
        ]

    def __call__(self, selected: Any = None) -> Markup:
        """Return the options, with the one whose value is `selected` selected."""
        return Markup(
            "".join(
                f"{start} selected{end}" if value == selected else start + end
                for value, start, end in self._choices
            )
        )


# No list has a billion pages; past this, OFFSET would overflow the database's integer.
MAX_PAGE = 10**9


def page_number(default: int = 1) -> int:
    """Read ?page= as a positive integer."""
    number = parse_whole(request.args.get("page", default), maximum=MAX_PAGE)
    return default if number is None else max(1, number)


def url_with(**changes: Any) -> str:
    """Return the current URL with some query arguments changed (None drops one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


def local_time(value: datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def nav_links() -> list[tuple[str, str, bool]]:
    """Return the main nav as (label, url, is the current section), areas that exist only."""
    # One Python loop instead of a Jinja one with a filter, two splits and a proxied
    # request lookup per link: every page renders the nav.
    section = (request.endpoint or "").partition(".")[0]
    views = current_app.view_functions
    return [
        (label, url_for(endpoint), endpoint.partition(".")[0] == section)
        for label, endpoint in NAV
        if endpoint in views
    ]


def register_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(NAV=NAV, Role=Role, url_with=url_with, nav_links=nav_links)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["counted"] = counted
    app.jinja_env.filters["thousands"] = thousands
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def nav_endpoints() -> dict[str, Any]:
        return {"has_endpoint": lambda name: name in app.view_functions}


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    return response
