"""Domain errors (messages safe to show) and error pages that leak nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, g, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException

from vat.db import db
from vat.extensions import login_manager


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


# PostgreSQL's answers that mean "nothing was saved, submit again": a lost race (40001, 40P01),
# a lock not granted in lock_timeout (55P03), a statement cut at statement_timeout (57014), the
# server shutting down or the connection ended by an administrator (57P01-57P03).
RETRY_STATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"})


def database_error_status(error: DBAPIError) -> int:
    """503 for a busy or unreachable database or a lost race (submit again), 507 for a full disk,
    else 500."""
    message = str(error.orig).lower()
    code = getattr(error.orig, "sqlstate", None) or ""
    if code == "53100" or "disk is full" in message or "no space left" in message:
        return 507
    if error.connection_invalidated or code in RETRY_STATES or code.startswith("08"):
        return 503
    if "locked" in message or "busy" in message:
        return 503
    return 500


def forget_signed_in_user() -> None:
    """The page of a database error must not touch the database: the rollback expired every row
    loaded, and reading the signed-in user again would wait on the same lock (on SQLite, a 500
    after the busy timeout once more). The page is shown as to a visitor."""
    g._login_user = login_manager.anonymous_user()


def refuse_nul_characters() -> None:
    """before_request: a NUL character is never valid input, and PostgreSQL refuses to store one
    (a 500 there, silently kept on SQLite): answer 400 before any work."""
    fields = (request.args, request.form)
    if any("\x00" in value for values in fields for _, value in values.items(multi=True)):
        abort(400)


def log_refusal(app: Flask, what: str) -> None:
    """A refused authorization or CSRF check, logged for whoever watches for probing: the method,
    the endpoint and the account's id, never the address's arguments (they may carry a record)."""
    user = g.get("_login_user")  # only the user already loaded: a refusal loads nothing more
    if user is None:
        account = "not yet read"
    else:
        account = user.get_id() if user.is_authenticated else "anonymous"
    app.logger.warning("%s: %s %s by account %s", what, request.method, request.endpoint, account)


def register_error_handlers(app: Flask) -> None:
    def render(status: int) -> tuple[str, int]:
        if request_ctx.url_adapter is None:  # refused before routing (e.g. an untrusted Host)
            return str(ERROR_TITLES[status]), status
        return render_template("errors/error.html", status=status, title=ERROR_TITLES[status]), status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if status == 403 or isinstance(error, CSRFError):
            log_refusal(app, "CSRF token refused" if status == 400 else "access refused")
        if status not in ERROR_TITLES:
            return error
        return render(status)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Any:
        return database_refused(error, database_error_status(error))

    @app.errorhandler(DBAPIError)
    def connection_lost(error: DBAPIError) -> Any:
        if not error.connection_invalidated:
            return unexpected(error)
        return database_refused(error, 503)

    @app.errorhandler(DisconnectionError)
    def disconnected(error: DisconnectionError) -> Any:
        return database_refused(error, 503)

    def database_refused(error: Exception, status: int) -> Any:
        db.session.rollback()
        forget_signed_in_user()
        if status == 500:
            app.logger.exception("database error")
        else:
            cause = type(getattr(error, "orig", None) or error).__name__
            app.logger.warning("database refused a request (%s): answered %s", cause, status)
        return render(status)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        db.session.rollback()
        forget_signed_in_user()
        app.logger.exception("unhandled error on %s", type(error).__name__)
        return render(500)
