"""Rapid-response envelopes: the list per mission, opening one, its confirmation by a second fund
manager, and urgent payments from it (`ledger.services.envelopes`)."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ledger.forms import EnvelopeForm, UrgentPaymentForm
from ledger.models import DirectSupport, MissionEnvelope
from ledger.services import envelopes
from ledger.views.blueprint import Recording, View, bp, post_on_row, recording_page
from vat.auth.forms import EmptyForm
from vat.auth.policy import Permission, requires
from vat.submission import button


@bp.get("/envelopes")
@requires(Permission.READ_LEDGER)
def envelope_list() -> str:
    return render_template("ledger/envelopes.html", rows=envelopes.envelope_rows(), confirm=EmptyForm())


def _new_envelope_page(_form: EnvelopeForm, _row: None) -> dict[str, Any]:
    return {
        "title": _("Open a rapid-response envelope"),
        "note": _(
            "What a mission may pay victims in urgent direct support, for a period, within a total and "
            "a cap per victim. It pays nothing until another fund manager confirms it."
        ),
    }


@recording_page("/envelopes/new", EnvelopeForm, show="new_envelope", page=_new_envelope_page, fresh=True)
def open_envelope(form: EnvelopeForm, _row: None) -> Recording[MissionEnvelope]:
    return Recording(
        # Its service takes no key: `submit` records the form once by it.
        lambda: envelopes.open_envelope(actor=current_user, **form.values("key")),
        done=_("Envelope opened: another fund manager must confirm it."),
        then=lambda _: url_for("ledger.envelope_list"),
    )


@post_on_row(
    "/envelopes/<int:envelope_id>/confirm", MissionEnvelope, Permission.APPROVE_DISBURSEMENT, fresh=True
)
def confirm_envelope(envelope: MissionEnvelope) -> View:
    return button(
        lambda: envelopes.confirm_envelope(actor=current_user, envelope=envelope),
        done=_("Envelope confirmed: its payments now post at once."),
        back=url_for("ledger.envelope_list"),
    )


def _pay_page(_form: UrgentPaymentForm, envelope: MissionEnvelope) -> dict[str, Any]:
    return {
        "title": _("Urgent payment from the %(mission)s envelope", mission=envelope.mission),
        "note": _(
            "Paid through the mission on the envelope's basis (%(basis)s). It posts at once if the "
            "envelope has enough left and the victim stays within the cap; otherwise it is refused.",
            basis=envelope.basis,
        ),
    }


@recording_page(
    "/envelopes/<int:envelope_id>/pay",
    UrgentPaymentForm,
    show="envelope_payment",
    page=_pay_page,
    load=MissionEnvelope,
    fresh=True,
)
def pay_from_envelope(form: UrgentPaymentForm, envelope: MissionEnvelope) -> Recording[DirectSupport]:
    return Recording(
        lambda: envelopes.pay_urgent(actor=current_user, envelope=envelope, **form.values()),
        done=_("Urgent payment recorded."),
        then=lambda _: url_for("ledger.envelope_list"),
    )
