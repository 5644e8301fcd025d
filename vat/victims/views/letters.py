"""The outcome letter (the victim's right to be informed) and the follow-ups the victim's feedback
asked for. The letter holds the victim's name: it is a POST (never a name or a language choice in
an address), decrypted and audited by the victims service, and answered as a PDF download. The
templates letters are written from, edited by a senior advocate."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import abort, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth.policy import Permission, requires
from vat.db import db
from vat.errors import DomainError
from vat.reports.pdf import letter_pdf
from vat.submission import act, submit
from vat.victims import letter_templates, letters, needs
from vat.victims.forms import LetterForm, LetterTemplateForm
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
    return letter_download(
        form,
        lambda: letters.outcome_letter(
            actor=current_user, victim=victim, task=task, language=form.language.data
        ),
        again=lambda: _letter_page(victim, task, form),
        name=f"{victim.case_code}-outcome-letter-{task.id}",
    )


def letter_download(
    form: LetterForm, write: Callable[[], list[str]], *, again: Callable[[], str], name: str
) -> Response | tuple[str, int]:
    """A letter's POST: `write` it in the chosen language (audited), commit, answer the PDF; a
    refusal is shown on the language field of the page `again` renders."""
    if not form.validate_on_submit():
        return again(), 422
    try:
        paragraphs = write()
    except DomainError as error:
        db.session.rollback()
        form.language.errors = [str(error)]
        return again(), 422
    db.session.commit()
    return send_file(
        io.BytesIO(letter_pdf(paragraphs[0], paragraphs[1:])),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{name}-{form.language.data}.pdf",
    )


# --- the templates letters are written from --------------------------------------------------


@bp.get("/letter-templates")
@requires(Permission.EDIT_POLICY)
def letter_templates_list() -> str:
    rows = [
        (kind, letter, language, name, letter_templates.saved(kind, language))
        for kind, letter in letter_templates.KINDS.items()
        for language, name in letter_templates.LETTER_LANGUAGES.items()
    ]
    return render_template("vat/victims/letter_templates.html", rows=rows)


def _template_page(kind: str, language: str, form: LetterTemplateForm) -> dict[str, Any]:
    return {
        "kind": kind,
        "language": language,
        "letter": letter_templates.KINDS[kind],
        "language_name": letter_templates.LETTER_LANGUAGES[language],
        "row": letter_templates.saved(kind, language),
        "form": form,
    }


def _known_template(letter: str, language: str) -> None:
    if letter not in letter_templates.KINDS or language not in letter_templates.LETTER_LANGUAGES:
        abort(404)


@bp.get("/letter-templates/<letter>/<language>")
@requires(Permission.EDIT_POLICY)
def letter_template(letter: str, language: str) -> str:
    _known_template(letter, language)
    form = LetterTemplateForm(body=letter_templates.body_of(letter, language))
    return render_template("vat/victims/letter_template.html", **_template_page(letter, language, form))


@bp.post("/letter-templates/<letter>/<language>")
@requires(Permission.EDIT_POLICY)
def save_letter_template(letter: str, language: str) -> Response | tuple[str, int]:
    _known_template(letter, language)
    form = LetterTemplateForm()
    return submit(
        form,
        lambda: letter_templates.save_template(
            actor=current_user, kind=letter, language=language, body=form.body.data or ""
        ),
        done=_("Letter template saved: letters are written from it from now on."),
        then=lambda _row: url_for("victims.letter_templates_list"),
        template="vat/victims/letter_template.html",
        **{k: v for k, v in _template_page(letter, language, form).items() if k != "form"},
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
