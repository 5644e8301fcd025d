"""A victim's consents and the shares (disclosures) they allow, and a share's export."""

from __future__ import annotations

import io

from flask import abort, flash, render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth.models import Role
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import commit_keeping_loaded, db
from vat.errors import DomainError, NotAllowed
from vat.victims import consents, timeline
from vat.victims.forms import ConsentForm, DisclosureForm, ExportForm, WithdrawForm
from vat.victims.models import Consent, Disclosure
from vat.victims.views.blueprint import bp, form_values, load_victim, show_error, to_victim_page


@bp.route("/victims/<int:victim_id>/consents/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_consent(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            consents.record_consent(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Consent recorded."), "success")
            return to_victim_page(victim, "consents")
    return render_template(
        "vat/victims/record_form.html", form=form, victim=victim, title=_("Record a consent")
    )


@bp.route("/victims/<int:victim_id>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def withdraw_consent(victim_id: int, consent_id: int) -> str | Response:
    victim = load_victim(victim_id)
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.victim_id != victim.id:
        abort(404)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            result = consents.withdraw_consent(
                actor=current_user, victim=victim, consent=consent, withdrawn_on=form.withdrawn_on.data
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(
                _(
                    "Consent withdrawn. Cancelled %(services)s service(s) and %(shares)s share(s) "
                    "that depended on it.",
                    services=len(result.cancelled_services),
                    shares=len(result.cancelled_disclosures),
                ),
                "success",
            )
            return to_victim_page(victim, "consents")
    return render_template(
        "vat/victims/record_form.html",
        form=form,
        victim=victim,
        title=_("Withdraw a consent"),
        submit=_("Withdraw"),
        lede=_("Withdrawing cancels pending referrals and shares that need this consent."),
    )


@bp.route("/victims/<int:victim_id>/disclosures/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CASES)
def new_disclosure(victim_id: int) -> str | Response:
    victim = load_victim(victim_id)
    form = DisclosureForm()
    if form.validate_on_submit():
        try:
            consents.record_disclosure(actor=current_user, victim=victim, **form_values(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            commit_keeping_loaded()  # what follows reads no expired row
            flash(_("Share recorded."), "success")
            return to_victim_page(victim, "disclosures")
    return render_template(
        "vat/victims/record_form.html",
        form=form,
        victim=victim,
        title=_("Record a share or a referral of the file"),
    )


@bp.post("/victims/<int:victim_id>/export")
@requires(Permission.VIEW_IDENTITY)
@fresh_required
def export_disclosure(victim_id: int) -> Response:
    """Download the file of a recorded share (senior advocates; refused in the service too)."""
    if Role(current_user.role) is not Role.SENIOR_ADVOCATE:
        abort(403)
    victim = load_victim(victim_id)
    form = ExportForm()
    disclosure = db.session.get(Disclosure, form.disclosure_id.data) if form.validate_on_submit() else None
    if disclosure is None or disclosure.victim_id != victim.id:
        flash(_("Choose one of this victim's shares."), "error")
        return to_victim_page(victim, "disclosures")
    timeline.load_victim_file(victim)
    try:
        workbook = consents.export_disclosure(actor=current_user, victim=victim, disclosure=disclosure)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return to_victim_page(victim, "disclosures")
    db.session.commit()
    return send_file(
        io.BytesIO(workbook),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{victim.case_code}-share-{disclosure.id}.xlsx",
    )
