"""Error pages in the app's style; a user never sees a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Sign in needed", "Your session has ended. Sign in again to continue."),
    403: ("Not allowed", "Your role or campaign membership does not give access to this page."),
    404: ("Not found", "There is nothing at this address. It may have been deleted."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "The upload is larger than this server accepts."),
    429: ("Too many attempts", "Too many attempts from your address. Wait a minute and try again."),
    500: ("Something went wrong", "The error was logged. Try again, or tell your admin."),
    503: ("Busy", "The database is busy with other work. Try again in a moment."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, ("Error", "Something went wrong."))
    if _wants_json():
        return jsonify(error=title, detail=detail or message), code  # type: ignore[return-value]
    return render_template("error.html", code=code, title=title, message=detail or message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "The form was missing its security token or it expired. Reload and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        detail = error.description if error.code in (400, 409, 422) else None
        return render_error(error.code, detail)

    @app.errorhandler(OperationalError)
    def database_error(
        error: OperationalError,
    ) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
        from crm.extensions import db

        db.session.rollback()
        if "locked" in str(error.orig).lower():
            # SQLite waited its busy timeout for another writer (the worker): not a bug.
            app.logger.warning("database locked on %s %s", request.method, request.path)
            page, code = render_error(503)
            return page, code, {"Retry-After": "5"}
        return unexpected(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        from crm.extensions import db

        db.session.rollback()
        return render_error(500)
