"""Domain errors (messages safe to show) and error pages that leak nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask.globals import request_ctx
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
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Busy — please try again",
}


def register_error_handlers(app: Flask) -> None:
    def render(status: int) -> tuple[str, int]:
        if request_ctx.url_adapter is None:  # refused before routing (e.g. an untrusted Host)
            return ERROR_TITLES[status], status
        return render_template("errors/error.html", status=status, title=ERROR_TITLES[status]), status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if status not in ERROR_TITLES:
            return error
        return render(status)

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError) -> Any:
        db.session.rollback()
        if "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower():
            return render(503)
        app.logger.exception("database error")
        return render(500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error on %s", type(error).__name__)
        return render(500)
