"""Monthly periods: closing them and their close packs."""

from __future__ import annotations

import json

from flask import Response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ledger.forms import (
    CloseForm,
)
from ledger.models import (
    Period,
)
from ledger.services import months
from ledger.views.blueprint import View, bp
from vat.auth.policy import Permission, requires
from vat.db import db
from vat.submission import given, submit

# --- periods ---------------------------------------------------------------------------------


@bp.get("/periods")
@requires(Permission.READ_LEDGER)
def periods() -> str:
    return render_template("ledger/periods.html", form=CloseForm(), rows=months.periods())


@bp.post("/periods")
@requires(Permission.RECORD_LEDGER)
def close_period() -> View:
    form = CloseForm()
    return submit(
        form,
        lambda: months.close_period(actor=current_user, month=given(form.month.data)),
        done=_("Month closed."),
        then=lambda p: url_for("ledger.period", period_id=p.id),
        template="ledger/periods.html",
        rows=months.periods(),
    )


@bp.get("/periods/<int:period_id>")
@requires(Permission.READ_LEDGER)
def period(period_id: int) -> str:
    row = db.get_or_404(Period, period_id)
    return render_template("ledger/close_pack.html", period=row, pack=json.loads(row.close_pack))


@bp.get("/periods/<int:period_id>/close-pack.json")
@requires(Permission.READ_LEDGER)
def period_export(period_id: int) -> Response:
    row = db.get_or_404(Period, period_id)
    return Response(
        row.close_pack,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=close-pack-{row.month:%Y-%m}.json"},
    )
