"""A victim's consents and the shares (disclosures) they allow, and a share's export."""

from __future__ import annotations

import io
from functools import partial
from typing import Any

from flask import abort, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from vat.auth.models import Role
from vat.auth.policy import Permission, fresh_required, requires
from vat.db import db
from vat.errors import DomainError, NotAllowed
from vat.forms_on_parent import FormOn, route_form
from vat.victims import consents, timeline
from vat.victims.forms import ConsentForm, DisclosureForm, ExportForm, WithdrawForm
from vat.victims.models import Consent, Disclosure
from vat.victims.views.blueprint import (
    VICTIM,
    bp,
    load_victim,
    on_file,
    to_victim_page,
    victim_url,
)
from vat.victims.views.consent_return import back_to_form, prefill_consent

route_form(
    VICTIM,
    "new_consent",
    "create_consent",
    FormOn(
        path="consents/new",
        title=_l("Record a consent"),
        form_class=ConsentForm,
        service=consents.record_consent,
        done=_l("Consent recorded."),
        prefill=prefill_consent,  # from a form refused for want of it, and back there after
        then=partial(back_to_form, anchor="consents"),
    ),
)


def _withdraw_page() -> dict[str, Any]:
    return {
        "title": _("Withdraw a consent"),
        "submit": _("Withdraw"),
        "lede": _("Withdrawing cancels pending referrals and shares that need this consent."),
    }


@bp.get("/victims/<int:victim_id>/consents/<int:consent_id>/withdraw")
@requires(Permission.EDIT_CASES)
def withdraw_consent(victim_id: int, consent_id: int) -> str:
    victim = load_victim(victim_id)
    on_file(victim, Consent, consent_id)
    return VICTIM.show(WithdrawForm(), victim, **_withdraw_page())


@bp.post("/victims/<int:victim_id>/consents/<int:consent_id>/withdraw")
@requires(Permission.EDIT_CASES)
def confirm_withdrawal(victim_id: int, consent_id: int) -> Response | tuple[str, int]:
    victim = load_victim(victim_id)
    consent = on_file(victim, Consent, consent_id)
    form = WithdrawForm()
    return VICTIM.save(
        form,
        victim,
        lambda: consents.withdraw_consent(
            actor=current_user, victim=victim, consent=consent, withdrawn_on=form.withdrawn_on.data
        ),
        done=lambda result: _(
            "Consent withdrawn. Cancelled %(services)s service(s) and %(shares)s share(s) "
            "that depended on it.",
            services=len(result.cancelled_services),
            shares=len(result.cancelled_disclosures),
        ),
        then=lambda _result: victim_url(victim, "consents"),
        **_withdraw_page(),
    )


route_form(
    VICTIM,
    "new_disclosure",
    "create_disclosure",
    FormOn(
        path="disclosures/new",
        title=_l("Record a share or a referral of the file"),
        form_class=DisclosureForm,
        service=consents.record_disclosure,
        done=_l("Share recorded."),
        then="disclosures",
    ),
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
        return to_victim_page(victim, "disclosures", refusal=_("Choose one of this victim's shares."))
    timeline.load_victim_file(victim)
    try:
        workbook = consents.export_disclosure(actor=current_user, victim=victim, disclosure=disclosure)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        return to_victim_page(victim, "disclosures", refusal=str(error))
    db.session.commit()
    return send_file(
        io.BytesIO(workbook),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{victim.case_code}-share-{disclosure.id}.xlsx",
    )
