"""The advocate's dashboard, breaking the glass, and importing records (as a job)."""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat import upload_jobs
from vat.auth.policy import Permission, requires
from vat.submission import submit, text
from vat.uploads import UploadRefused
from vat.victims import assistance, identity, import_job, importer, listing
from vat.victims.forms import BreakGlassForm, ImportForm
from vat.victims.import_template import KINDS, template_csv, template_workbook
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
    return render_template("vat/victims/import.html", form=form, report=None, columns=importer.COLUMNS)


@bp.post("/import")
@requires(Permission.EDIT_CASES)
def run_import() -> str | Response | tuple[str, int]:
    """Store the file and queue the import (checked and saved by the jobs' worker); follow it."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("vat/victims/import.html", form=form, report=None, columns=importer.COLUMNS)
    upload = form.file.data
    try:
        content = upload.read()
        importer.check_upload(upload.filename or "", io.BytesIO(content), form.kind.data)
    except UploadRefused as error:  # refused as a whole, before it is stored: a 4xx
        report = importer.as_dict(importer.refused(error))
        page = render_template("vat/victims/import.html", form=form, report=report, columns=importer.COLUMNS)
        return page, error.status
    finally:
        upload.close()
    job, params = import_job.start(
        actor=current_user,
        filename=upload.filename or "",
        content=content,
        kind=form.kind.data,
        locale=str(get_locale() or "en"),
    )
    return upload_jobs.queued(job, params, "victims.import_job_page")


# How far the import has got, then its report.
upload_jobs.route_job_pages(bp, import_job.KIND, Permission.EDIT_CASES, "vat/victims/import_job.html")


@bp.get("/import/template.xlsx")
@requires(Permission.EDIT_CASES)
def import_template() -> Response:
    return send_file(
        template_workbook(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="vat-import-template.xlsx",
    )


@bp.get("/import/template-<kind>.csv")
@requires(Permission.EDIT_CASES)
def import_template_csv(kind: str) -> Response:
    if kind not in KINDS:
        abort(404)
    return send_file(
        template_csv(kind),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"vat-import-{kind}.csv",
    )
