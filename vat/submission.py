"""One unit of work per request: the begin mode a request's transactions take, and `submit`, the
one shape of a form handler (validate, call one service, commit once, redirect)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field

from vat import human_time, request_keys
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import BeginMode, begin_mode, db, reset_begin_mode, set_begin_mode
from vat.errors import DomainError, NotAllowed
from vat.inputs import InvalidField, InvalidFields
from vat.request_keys import KeyedForm, already_recorded

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
V = TypeVar("V", bound=ResponseReturnValue)  # what a view returns

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes(view: F) -> F:
    """Declare a GET (or HEAD) endpoint that writes (e.g. an audit row for an identity shown):
    its transactions begin IMMEDIATE, waiting their turn for the write lock instead of failing."""
    view.vat_writes = True  # type: ignore[attr-defined]
    return view


def request_writes() -> bool:
    if request.method not in READING_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "vat_writes", False))


def choose_begin_mode() -> None:
    """before_request: a request that only reads begins its transactions DEFERRED (no write lock);
    any other begins them IMMEDIATE, so it reads what it is about to change under the lock."""
    mode = BeginMode.IMMEDIATE if request_writes() else BeginMode.DEFERRED
    g.vat_begin_mode = set_begin_mode(mode)


@contextmanager
def written_apart() -> Iterator[None]:
    """A reading request's one write (the audit row of what it shows or exports, a session's
    upkeep): the reading transaction ended, then a short IMMEDIATE transaction of its own,
    committed on the way out. SQLite's write lock, which every other writer waits for, is held
    for the write alone, not for the page."""
    db.session.commit()  # end the reading transaction
    with begin_mode(BeginMode.IMMEDIATE):
        yield
        db.session.commit()


def restore_begin_mode(_error: BaseException | None) -> None:
    """teardown_request: end a reading request's transaction (it wrote nothing: it was query-only),
    and let what runs after the request (CLI, tests sharing the app context) begin IMMEDIATE."""
    token = g.pop("vat_begin_mode", None)
    if token is None:
        return
    # Only SQLite's query-only transaction needs ending here; on PostgreSQL the session may be
    # shared with a response still streaming from a server-side cursor (stream_with_context).
    reading = token.var.get() is BeginMode.DEFERRED
    if reading and db.session().in_transaction() and db.session.get_bind().dialect.name == "sqlite":
        db.session.rollback()
    reset_begin_mode(token)


def text(field: Field) -> str:
    """A text field's value, "" when empty (`.data` is None for a field left out)."""
    return str(field.data or "")


def form_values(form: FlaskForm, *skip: str) -> dict[str, Any]:
    """The form's data as a service's keyword arguments: the CSRF token and the fields in `skip` left out."""
    return {k: v for k, v in form.data.items() if k not in ("csrf_token", *skip)}


def given(value: T | None) -> T:
    """The value of a field its form requires, once the form is valid (never None then)."""
    if value is None:
        raise ValueError("a required field was validated empty")
    return value


def or_404(found: T | None) -> T:
    """A record the page names: one that does not exist, or is outside the user's scope, answers 404."""
    if found is None:
        abort(404)
    return found


def show_refusal(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the field it names, or at the top of the page; several refusals
    at once (`InvalidFields`) each on its own field."""
    for refusal in error.errors if isinstance(error, InvalidFields) else [error]:
        if isinstance(refusal, InvalidField) and refusal.field in form:
            field = form[refusal.field]
            field.errors = [*field.errors, str(refusal)]
        else:
            flash(str(refusal), "error")


def submit(
    form: FlaskForm,
    run: Callable[[], T],
    *,
    done: str | Callable[[T], str],
    then: Callable[[T], str],
    template: str,
    refused_status: int = 422,
    **context: Any,
) -> Response | tuple[str, int]:
    """The POST handler's whole shape: validate `form`, `run` the service, commit once, flash
    `done` and redirect to `then(result)` (POST/redirect/GET). An invalid form is shown again
    with its errors; a refusal rolls back and is shown on its field or at the top: 403 for `NotAllowed`,
    `refused_status` for any other `DomainError`."""

    def again(status: int) -> tuple[str, int]:
        return render_template(template, form=form, **context), status

    if not form.validate_on_submit():
        show_hidden_errors(form)
        return again(human_time.invalid_status(form))
    try:
        claimed = claim_key(form)
        if claimed is not None and claimed.earlier is not None:
            return already_recorded(claimed.earlier)
        result = run()
        target = then(result)
        if claimed is not None:
            request_keys.settle(claimed, result, target)
    except NotAllowed as error:
        db.session.rollback()
        flash(str(error), "error")
        return again(403)
    except request_keys.KeyReused as error:
        db.session.rollback()
        flash(str(error), "error")
        return again(409)
    except DomainError as error:
        db.session.rollback()
        show_refusal(form, error)
        return again(refused_status)
    db.session.commit()
    flash(done(result) if callable(done) else done, "success")
    return redirect(target)


def act(
    run: Callable[[], T], *, done: str | Callable[[T], str], back: str, form: FlaskForm | None = None
) -> Response:
    """A button or a small form shown on another page: run the service, commit once, and go
    `back` to that page either way, with `done` (or `done(result)`) or the refusal flashed (rolled
    back). A keyed `form` (a small create form) records once, however often it is submitted."""
    try:
        claimed = claim_key(form) if form is not None else None
        if claimed is not None and claimed.earlier is not None:
            return already_recorded(claimed.earlier)
        result = run()
        if claimed is not None:
            request_keys.settle(claimed, result, back)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(done(result) if callable(done) else done, "success")
    return redirect(back)


def button(run: Callable[[], T], *, done: str | Callable[[T], str], back: str) -> Response:
    """A button's POST (its form holds only the CSRF token, 400 without it): `act` and go `back`."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return act(run, done=done, back=back)


def claim_key(form: FlaskForm) -> request_keys.Claim | None:
    """Claim a create form's key in this transaction (None for a form without one)."""
    return request_keys.claim(form) if isinstance(form, KeyedForm) and form.record_once else None


def show_hidden_errors(form: FlaskForm) -> None:
    """A hidden field's error (an expired or forged key) has no place on the page: flash it."""
    for field in form:
        if field.type == "HiddenField":
            for error in field.errors:
                flash(str(error), "error")


def post_on_row(
    bp: Blueprint, rule: str, load: type[T], permission: Permission, *, fresh: bool = False
) -> Callable[[Callable[[T], V]], Callable[[T], V]]:
    """Register on `bp` a POST about the `load` row the rule's one identifier names (a button or a
    small form about that row) under the decorated function's name, which is given the row (404 if
    none; behind `permission`, and a fresh login if `fresh`, checked before the row is read)."""

    def register(act_on: Callable[[T], V]) -> Callable[[T], V]:
        def post(**ids: int) -> V:
            return act_on(db.get_or_404(load, *ids.values()))

        view = requires(permission)(fresh_required(post) if fresh else post)
        bp.add_url_rule(rule, act_on.__name__, view, methods=["POST"])
        return act_on

    return register
