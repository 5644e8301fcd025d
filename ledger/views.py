"""The ledger's blueprint."""

from __future__ import annotations

from flask import Blueprint, render_template

from vat.auth.policy import Permission, requires

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.get("/")
@requires(Permission.READ_LEDGER)
def index() -> str:
    return render_template("ledger/index.html")
