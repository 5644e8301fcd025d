"""The outcome letter (the victim's right to be informed) and the follow-ups the victim's feedback
asked for. The letter holds the victim's name: it is a POST (never a name or a language choice in
an address), decrypted and audited by the victims service, and answered as a PDF download."""

from __future__ import annotations

import io

from flask import abort, render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.db import db
from vat.errors import DomainError
from vat.reports.pdf import letter_pdf
from vat.submission import act
from vat.victims import letters, needs
from vat.victims.forms import LetterForm
from vat.victims.models import Feedback, Victim, VictimTask
from vat.victims.views.blueprint import bp, load_victim, on_file, victim_url


def _letter_page(victim: Victim, task: VictimTask, form: LetterForm) -> str:
    told = next(row for row in letters.outcomes_to_tell(victim) if row.task.id == task.id)
    return render_template("vat/victims/letter.html", victim=victim, told=told, form=form)


def _task(victim: Victim, task_id: int) -> VictimTask:
    task = on_file(victim, VictimTask, task_id)
    if task.kind != letters.INFORM_OUTCOME:
        abort(404)
    return task


@bp.get("/victims/<int:victim_id>/outcomes/<int:task_id>")
@requires(Permission.EDIT_CASES)
def outcome_letter_page(victim_id: int, task_id: int) -> str:
    victim = load_victim(victim_id)
    return _letter_page(victim, _task(victim, task_id), LetterForm())


@bp.post("/victims/<int:victim_id>/outcomes/<int:task_id>/letter")
@requires(Permission.EDIT_CASES)
def outcome_letter(victim_id: int, task_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    task = _task(victim, task_id)
    form = LetterForm()
    if not form.validate_on_submit():
        return _letter_page(victim, task, form), 422
    try:
        paragraphs = letters.outcome_letter(
            actor=current_user, victim=victim, task=task, language=form.language.data
        )
    except DomainError as error:
        db.session.rollback()
        form.language.errors = [str(error)]
        return _letter_page(victim, task, form), 422
    db.session.commit()
    return send_file(
        io.BytesIO(letter_pdf(paragraphs[0], paragraphs[1:])),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{victim.case_code}-outcome-letter-{task.id}-{form.language.data}.pdf",
    )


@bp.post("/victims/<int:victim_id>/feedback/<int:feedback_id>/followed-up")
@requires(Permission.EDIT_CASES)
def feedback_followed_up(victim_id: int, feedback_id: int) -> Response:
    victim = load_victim(victim_id)
    feedback = on_file(victim, Feedback, feedback_id)
    return act(
        lambda: needs.follow_up_done(actor=current_user, victim=victim, feedback=feedback),
        done=_("Follow-up recorded as done."),
        back=victim_url(victim, "needs"),
    )
