"""The demo's pages: every message the mail sandbox received, and the notice on every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from crm.demo.mail import FOLDERS, list_messages, read_message
from crm.demo.sandbox import SandboxPorts
from crm.web.helpers import Page, page_number

bp = Blueprint("demo", __name__, url_prefix="/demo")


def sandbox_folder() -> Path | None:
    """Return the sandbox folder when this process runs beside the demo's sandbox."""
    folder = current_app.config.get("DEMO_SANDBOX")
    return Path(folder) if folder else None


@bp.app_context_processor
def demo_notice() -> dict[str, Any]:
    def notice() -> dict[str, Any] | None:
        folder = sandbox_folder()
        if folder is None or not current_user.is_authenticated:
            return None
        return {"ports": SandboxPorts.load(folder)}

    return {"demo_notice": notice}


@bp.route("/mail")
def mail() -> str:
    folder = sandbox_folder()
    if folder is None:
        abort(404)
    per_page = int(current_app.config.get("PAGE_SIZE") or 50)
    number = page_number()
    items, total = list_messages(folder, offset=(number - 1) * per_page, limit=per_page)
    page = Page(items=items, page=number, per_page=per_page, total=total)
    return render_template(
        "demo/mail.html", page=page, folders=FOLDERS, ports=SandboxPorts.load(folder)
    )


@bp.route("/mail/<folder>/<name>")
def message(folder: str, name: str) -> str:
    sandbox = sandbox_folder()
    found = read_message(sandbox, folder, name) if sandbox is not None else None
    if found is None:
        abort(404)
    summary, text = found
    return render_template("demo/message.html", m=summary, text=text, folders=FOLDERS)
