"""Domain errors (messages safe to show) and error pages that leak nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from vat.db import db


class DomainError(Exception):
    """A rule of the domain refused the operation; the message is safe to show the user."""


class NotAllowed(DomainError):
    """The actor may not do this (shown as 403, never with details of the record)."""


class Conflict(DomainError):
    """The operation conflicts with what is already recorded (e.g. a reused idempotency key)."""


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Busy — please try again"),
    507: _l("Storage full"),
}


def database_error_status(error: OperationalError) -> int:
    """503 for a busy database or a lost race (submit again), 507 for a full disk, else 500."""
    message = str(error.orig).lower()
    code = getattr(error.orig, "sqlstate", None) or ""
    if code == "53100" or "disk is full" in message or "no space left" in message:
        return 507
    if code in ("40001", "40P01", "55P03") or "locked" in message or "busy" in message:
        return 503
    return 500


def refuse_nul_characters() -> None:
    """before_request: a NUL character is never valid input, and PostgreSQL refuses to store one
    (a 500 there, silently kept on SQLite): answer 400 before any work."""
    fields = (request.args, request.form)
    if any("\x00" in value for values in fields for _, value in values.items(multi=True)):
        abort(400)


def register_error_handlers(app: Flask) -> None:
    def render(status: int) -> tuple[str, int]:
        if request_ctx.url_adapter is None:  # refused before routing (e.g. an untrusted Host)
            return str(ERROR_TITLES[status]), status
        return render_template("errors/error.html", status=status, title=ERROR_TITLES[status]), status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if status not in ERROR_TITLES:
            return error
        return render(status)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Any:
        db.session.rollback()
        status = database_error_status(error)
        if status == 500:
            app.logger.exception("database error")
        else:
            app.logger.warning(
                "database refused a write (%s): answered %s", type(error.orig).__name__, status
            )
        return render(status)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error on %s", type(error).__name__)
        return render(500)
