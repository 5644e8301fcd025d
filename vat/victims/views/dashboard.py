"""The advocate's dashboard, breaking the glass, and importing records."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask import current_app, render_template, request, send_file, stream_template
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.db import db
from vat.submission import submit, text
from vat.uploads import UploadRefused
from vat.victims import assistance, identity, importer, listing
from vat.victims.forms import BreakGlassForm, ImportForm
from vat.victims.views.blueprint import bp, victim_url


@bp.get("/attention")
@requires(Permission.VIEW_IDENTITY)
def attention() -> str:
    mine_only = request.args.get("all") != "1"
    return render_template(
        "vat/victims/attention.html",
        attention=listing.attention(current_user, mine_only=mine_only),
        mine_only=mine_only,
        no_update_days=listing.no_update_days(),
        stuck_days=assistance.STUCK_DAYS,
        attention_limit=listing.ATTENTION_LIMIT,
    )


@bp.get("/break-glass")
@requires(Permission.BREAK_GLASS)
def break_glass() -> str:
    form = BreakGlassForm()
    if request.args.get("case_code"):
        form.case_code.data = request.args["case_code"][:40]
    return render_template("vat/victims/break_glass.html", form=form)


@bp.post("/break-glass")
@requires(Permission.BREAK_GLASS)
def open_through_glass() -> Response | tuple[str, int]:
    form = BreakGlassForm()
    return submit(
        form,
        lambda: identity.break_glass_victim(
            actor=current_user, case_code=text(form.case_code), reason=text(form.reason)
        ),
        done=_("Access granted for a few hours; the victim's advocate will see your reason."),
        then=victim_url,
        template="vat/victims/break_glass.html",
    )


@bp.get("/import")
@requires(Permission.EDIT_CASES)
def import_records() -> str:
    form = ImportForm()
    return render_template("vat/victims/import.html", form=form, steps=None, columns=importer.COLUMNS)


@bp.post("/import")
@requires(Permission.EDIT_CASES)
def run_import() -> str | Response | tuple[str, int]:
    """The report streams in: progress lines while a large file is checked, then the outcome."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("vat/victims/import.html", form=form, steps=None, columns=importer.COLUMNS)
    upload = form.file.data
    try:
        sheets = importer.read_file(upload.filename or "", io.BytesIO(upload.read()), form.kind.data)
    except UploadRefused as error:  # refused as a whole, before any row is read: a 4xx
        refusal = render_template(
            "vat/victims/import.html", form=form, steps=[importer.refused(error)], columns=importer.COLUMNS
        )
        return refusal, error.status
    finally:
        upload.close()
    steps = committed(importer.import_sheets(actor=current_user, sheets=sheets))
    if importer.row_count(sheets) <= importer.PROGRESS_EVERY:  # small: one plain page
        return render_template(
            "vat/victims/import.html", form=form, steps=list(steps), columns=importer.COLUMNS
        )
    # Large: the page streams (progress lines, then the report); all the work runs in the stream,
    # inside the request context that stream_template keeps for it.
    page = stream_template("vat/victims/import.html", form=form, steps=steps, columns=importer.COLUMNS)
    return current_app.response_class(page, mimetype="text/html")


def committed(steps: Iterator[Any]) -> Iterator[Any]:
    """Pass progress through; commit a clean import, roll back anything else."""
    try:
        for step in steps:
            if isinstance(step, importer.ImportReport):
                if step.ok:
                    db.session.commit()
                else:
                    db.session.rollback()
            yield step
    except Exception:
        db.session.rollback()
        current_app.logger.exception("import failed")
        failed = importer.ImportReport()
        failed.errors.append(importer.RowError("file", 0, "", _("The import failed; nothing was saved.")))
        yield failed


@bp.get("/import/template.xlsx")
@requires(Permission.EDIT_CASES)
def import_template() -> Response:
    return send_file(
        importer.template_workbook(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="vat-import-template.xlsx",
    )
