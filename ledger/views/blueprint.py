"""The ledger's blueprint and what its pages share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from ledger.cli import attach
from ledger.labels import account_name, account_type
from ledger.services import four_eyes
from vat import paging

bp = Blueprint(
    "ledger",
    __name__,
    url_prefix="/ledger",
    static_folder=str(Path(__file__).resolve().parent.parent / "static"),
    static_url_path="/static",
)
attach(bp.cli)  # type: ignore[arg-type]  # Blueprint.cli is an AppGroup, typed as a Group


@bp.context_processor
def account_labels() -> dict[str, Any]:
    """Account names and types in the reader's language, for the ledger's pages."""
    return {"account_name": account_name, "account_type": account_type, "approvals_waiting": _waiting}


def _waiting() -> int:
    """Called by the navigation only for those who may approve: one COUNT, not cached."""
    return four_eyes.waiting_for(current_user)


View = str | WerkzeugResponse | tuple[str, int]

FORM_PAGE = "ledger/form.html"  # a form on a page of its own: a title, a note, the fields


def form_page(form: FlaskForm, **context: Any) -> str:
    """The GET of a form page; its POST shows it again through `submit(..., template=FORM_PAGE)`."""
    return render_template(FORM_PAGE, form=form, **context)


def lines_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


LIST_PAGE = 50  # rows on a page of the donors, projects and direct-support lists


def page_number() -> int:
    return paging.page_number(request.args.get("page"))


def list_filters() -> dict[str, str]:
    """The list's filters as given, for the pager's links."""
    return {k: v for k, v in request.args.items() if k != "page" and v}
