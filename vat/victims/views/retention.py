"""Identities of closed cases past their retention period: the list, asking for an erasure,
withdrawing it, and carrying out another senior advocate's (vat.retention)."""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat import retention
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, requires
from vat.submission import button
from vat.victims.views.blueprint import bp, load_victim


@bp.get("/retention")
@requires(Permission.ERASE_IDENTITIES)
def retention_due() -> str:
    return render_template(
        "vat/victims/retention.html",
        victims=retention.due(current_user),
        days=retention.retention_days(),
        cutoff=retention.cutoff(),
        button=EmptyForm(),
    )


def _button(victim_id: int, run: Callable[..., object], done: str) -> Response:
    """A button's POST on one victim in the user's scope (404 outside it), back to the list."""
    return button(
        lambda: run(actor=current_user, victim=load_victim(victim_id)),
        done=done,
        back=url_for("victims.retention_due"),
    )


@bp.post("/retention/<int:victim_id>/request")
@requires(Permission.ERASE_IDENTITIES)
def request_erasure(victim_id: int) -> Response:
    done = _("Erasure asked for: another senior advocate carries it out.")
    return _button(victim_id, retention.request_erasure, done)


@bp.post("/retention/<int:victim_id>/withdraw")
@requires(Permission.ERASE_IDENTITIES)
def withdraw_erasure(victim_id: int) -> Response:
    return _button(victim_id, retention.withdraw_request, _("Erasure withdrawn: the identity is kept."))


@bp.post("/retention/<int:victim_id>/erase")
@requires(Permission.ERASE_IDENTITIES)
def erase_identity(victim_id: int) -> Response:
    return _button(victim_id, retention.erase, _("Identity erased. The case's figures are kept."))
