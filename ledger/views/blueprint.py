"""The ledger's blueprint and what its pages share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from ledger import memos
from ledger.cli import attach
from ledger.labels import account_name, account_type, donor_name
from ledger.services import four_eyes
from vat import audit, paging, submission
from vat.auth import throttle
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import db
from vat.errors import ERROR_TITLES
from vat.plausibility import Usual, checked
from vat.submission import READING_METHODS, act, submit
from vat.templating import when

bp = Blueprint(
    "ledger",
    __name__,
    url_prefix="/ledger",
    static_folder=str(Path(__file__).resolve().parent.parent / "static"),
    static_url_path="/static",
)
attach(bp.cli)  # type: ignore[arg-type]  # Blueprint.cli is an AppGroup, typed as a Group
bp.add_app_template_filter(memos.shown, "memo")  # a stored memo in the reader's language


@bp.context_processor
def account_labels() -> dict[str, Any]:
    """Account names and types, and donors' names, in the reader's language, for the ledger's pages."""
    return {
        "account_name": account_name,
        "account_type": account_type,
        "donor_name": donor_name,
        "approvals_waiting": _waiting,
    }


def _waiting() -> int:
    """Called by the navigation only for those who may approve: one COUNT, not cached."""
    return four_eyes.waiting_for(current_user)


View = str | WerkzeugResponse | tuple[str, int]


@bp.before_request
def limit_money_requests() -> tuple[str, int] | None:
    """ASVS 2.4.2: every request that writes to the ledger (a booking, an approval, a rate, a close,
    an import) counts against its user's VAT_MONEY_REQUESTS_PER_WINDOW in VAT_MONEY_WINDOW_MINUTES,
    kept in the database so that every worker and server shares it; beyond, it is refused before
    anything is read or done, and audited. Counted and committed first, in a transaction of its own,
    so that a refused or repeated form counts too. The services (seeding, commands) are not limited."""
    if request.method in READING_METHODS or not current_user.is_authenticated:
        return None
    limit, minutes = (
        current_app.config["VAT_MONEY_REQUESTS_PER_WINDOW"],
        current_app.config["VAT_MONEY_WINDOW_MINUTES"],
    )
    until = throttle.count_request(f"money:{current_user.id}", limit=limit, window=timedelta(minutes=minutes))
    if until is not None:
        audit.record(
            "ledger.rate_limited",
            actor=current_user,
            detail={
                "endpoint": request.endpoint,
                "limit": limit,
                "minutes": minutes,
                "until": until.isoformat(),
            },
        )
    db.session.commit()
    if until is None:
        return None
    current_app.logger.warning("money requests limited: %s by account %s", request.endpoint, current_user.id)
    message = _(
        "You have sent %(limit)d money requests in %(minutes)d minutes, the most allowed. This one was "
        "not done: nothing was saved. You can send it again from %(time)s.",
        limit=limit,
        minutes=minutes,
        time=when(until),
    )
    return render_template("errors/error.html", status=429, title=ERROR_TITLES[429], message=message), 429


FORM_PAGE = "ledger/form.html"  # a form on a page of its own: a title, a note, the fields


T = TypeVar("T")


def form_page(form: FlaskForm, **context: Any) -> str:
    """The GET of a form page; its POST shows it again through `submit(..., template=FORM_PAGE)`."""
    return render_template(FORM_PAGE, form=form, **context)


@dataclass(frozen=True)
class Recording(Generic[T]):
    """What a form page's POST records: `run` the service, flash `done`, go to `then(result)`. A
    money form names its kind of amount and its currency (`usual`): an unusual amount is recorded
    only once confirmed (vat.plausibility)."""

    run: Callable[[], T]
    done: str | Callable[[T], str]
    then: Callable[[T], str]
    usual: tuple[Usual, str] | None = None


def waits_or_booked(waits: Callable[[T], bool], *, waiting: str, booked: str) -> Callable[[T], str]:
    """The flash of an event the four-eyes rule may hold for a second fund manager's approval."""
    return lambda result: waiting if waits(result) else booked


@dataclass(frozen=True)
class RecordingPage:
    """A form on a page of its own for those who record in the ledger (see `recording_page`)."""

    rule: str
    show: str
    form_class: type[FlaskForm]
    page: Callable[[Any, Any], dict[str, Any]]
    load: type | None
    fresh: bool

    def form_and_page(self, ids: dict[str, int]) -> tuple[Any, Any, dict[str, Any]]:
        """The row the address names (404 if none; None without `load`), the form and the page."""
        row = named_row(self.load, ids) if self.load is not None else None
        form = self.form_class()
        return row, form, self.page(form, row)

    def register(self, record: Callable[[Any, Any], Recording[Any]]) -> None:
        def get(**ids: int) -> str:
            _row, form, context = self.form_and_page(ids)
            return form_page(form, **context)

        def post(**ids: int) -> View:
            row, form, context = self.form_and_page(ids)
            recording = record(form, row)
            run = recording.run if recording.usual is None else checked(form, recording.run, *recording.usual)
            return submit(form, run, done=recording.done, then=recording.then, template=FORM_PAGE, **context)

        bp.add_url_rule(self.rule, self.show, requires(Permission.RECORD_LEDGER)(get), methods=["GET"])
        view = requires(Permission.RECORD_LEDGER)(fresh_required(post) if self.fresh else post)
        bp.add_url_rule(self.rule, record.__name__, view, methods=["POST"])


def recording_page(
    rule: str,
    form: type[FlaskForm],
    *,
    show: str,
    page: Callable[[Any, Any], dict[str, Any]],
    load: type | None = None,
    fresh: bool = False,
) -> Callable[[Callable[[Any, Any], Recording[Any]]], Callable[[Any, Any], Recording[Any]]]:
    """Register a form on a page of its own for those who record in the ledger: its GET under the
    endpoint `show`, its POST under the decorated function's name (behind a fresh login if
    `fresh`), which `submit`s the `Recording` the function makes of the form and the row. The row
    is the `load` model the rule's one identifier names; `page(form, row)` prepares the form (its
    choices) and gives the page's title and note."""

    def register(record: Callable[[Any, Any], Recording[Any]]) -> Callable[[Any, Any], Recording[Any]]:
        RecordingPage(rule, show, form, page, load, fresh).register(record)
        return record

    return register


def named_row(load: type[T], ids: dict[str, int]) -> T:
    """The `load` row the address's one identifier names (404 if none)."""
    return db.get_or_404(load, *ids.values())


def post_on_row(
    rule: str, load: type[T], permission: Permission, *, fresh: bool = False
) -> Callable[[Callable[[T], View]], Callable[[T], View]]:
    """`submission.post_on_row` on the ledger's blueprint."""
    return submission.post_on_row(bp, rule, load, permission, fresh=fresh)


def small_form(
    form: FlaskForm, run: Callable[[], object], *, done: str, back: str, refused: Callable[[str], str]
) -> View:
    """A small form shown on another page: once valid, `act` on it (a create form records once);
    if not, flash `refused` of its errors and go `back`."""
    if not form.validate_on_submit():
        flash(refused("; ".join(str(e) for errs in form.errors.values() for e in errs)), "error")
        return redirect(back)
    return act(run, done=done, back=back, form=form)


def lines_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


LIST_PAGE = 50  # rows on a page of the donors, projects and direct-support lists


def page_number() -> int:
    return paging.page_number(request.args.get("page"))


def list_filters() -> dict[str, str]:
    """The list's filters as given, for the pager's links."""
    return {k: v for k, v in request.args.items() if k != "page" and v}
