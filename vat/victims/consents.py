"""The victim's consents: given, withdrawn (cancelling what depended on them), and required
before any service, contact or share; shares with member states and providers, and their export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from vat.auth.actor import Actor
from vat.auth.models import Role
from vat.errors import DomainError, NotAllowed
from vat.inputs import InvalidField, choice, clean_text, past_date, today
from vat.reports.exports import xlsx_bytes
from vat.victims import service_tally, support_summary
from vat.victims.history import add_audited, audit_victim
from vat.victims.identity import IDENTITY_FIELDS
from vat.victims.labels import vat_label
from vat.victims.models import (
    Assistance,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    Disclosure,
    RecipientKind,
    ServiceStatus,
    Victim,
)

# Services that are happening (or about to) for the victim: these need the victim's consent.
ONGOING = (ServiceStatus.REFERRED, ServiceStatus.IN_PROGRESS)


def active_consent(victim: Victim, purpose: str, recipient: str | None = None) -> Consent | None:
    """The consent in force for this purpose (and, if it names one, this recipient)."""
    for consent in reversed(victim.consents):
        if consent.purpose != purpose or not consent.active:
            continue
        if (
            consent.recipient
            and recipient is not None
            and consent.recipient.casefold() != recipient.casefold()
        ):
            continue
        return consent
    return None


class ConsentMissing(InvalidField):
    """A service refused for want of the victim's consent to `purpose` (for `recipient`): the page
    offers to record it and to come back to the form with what was typed."""

    def __init__(self, field: str, message: str, *, purpose: str, recipient: str | None) -> None:
        super().__init__(field, message)
        self.purpose = purpose
        self.recipient = recipient


def missing_consent(
    victim: Victim, purpose: str, recipient: str | None = None, *, field: str = "status"
) -> ConsentMissing | None:
    """The refusal a service needing this consent meets, or None when the consent is in force."""
    if active_consent(victim, purpose, recipient) is not None:
        return None
    if recipient and purpose != ConsentPurpose.SERVICES:
        message = _l(
            "Refused: the victim has not given (or has withdrawn) consent to %(purpose)s for "
            "%(recipient)s. Record the consent first.",
            purpose=vat_label(purpose),
            recipient=recipient,
        )
    else:
        message = _l(
            "Refused: the victim has not given (or has withdrawn) consent to %(purpose)s. "
            "Record the consent first.",
            purpose=vat_label(purpose),
        )
    return ConsentMissing(field, message, purpose=purpose, recipient=recipient)


def require_consent(
    victim: Victim, purpose: str, recipient: str | None = None, *, field: str = "status"
) -> None:
    refused = missing_consent(victim, purpose, recipient, field=field)
    if refused is not None:
        raise refused


def record_consent(
    *,
    actor: Actor,
    victim: Victim,
    purpose: str,
    given_on: date | None,
    method: str,
    version: str,
    recipient: str | None = None,
) -> Consent:
    values = consent_columns(
        actor=actor, purpose=purpose, given_on=given_on, method=method, version=version, recipient=recipient
    )
    for previous in victim.consents:
        if (
            previous.purpose == values["purpose"]
            and previous.active
            and previous.recipient == values["recipient"]
        ):
            previous.superseded = True
    return add_audited(
        Consent(victim=victim, **values),
        "victim.consent_given",
        actor=actor,
        victim=victim,
        detail=lambda consent: {"purpose": purpose, "version": consent.version, "consent": consent.id},
    )


def consent_columns(
    *, actor: Actor, purpose: str, given_on: date | None, method: str, version: str, recipient: str | None
) -> dict[str, Any]:
    """A new consent's checked columns (the victim's aside), written nowhere."""
    return {
        "purpose": choice("purpose", purpose, ConsentPurpose),
        "given_on": past_date("given_on", given_on, required=True),
        "method": choice("method", method, ConsentMethod),
        "version": clean_text("version", version, max_length=20, required=True),
        "recipient": clean_text("recipient", recipient, max_length=200),
        "recorded_by_id": getattr(actor, "id", None),
    }


@dataclass
class Withdrawal:
    consent: Consent
    cancelled_services: list[Assistance] = field(default_factory=list)
    cancelled_disclosures: list[Disclosure] = field(default_factory=list)


def withdraw_consent(
    *, actor: Actor, victim: Victim, consent: Consent, withdrawn_on: date | None = None
) -> Withdrawal:
    """Withdraw a consent and cancel what depended on it (pending referrals, shares)."""
    if consent.victim_id != victim.id:
        raise DomainError(_l("That consent belongs to another victim."))
    if not consent.active:
        raise DomainError(_l("This consent is no longer in force."))
    when = past_date("withdrawn_on", withdrawn_on) or today()
    if when < consent.given_on:
        raise InvalidField("withdrawn_on", _l("A consent cannot be withdrawn before it was given."))
    consent.withdrawn_on = when
    result = Withdrawal(consent)
    with service_tally.recounting([victim.id]):
        for service in victim.services:
            if service.status not in ONGOING:
                continue
            needs: list[tuple[ConsentPurpose, str | None]] = [(ConsentPurpose.SERVICES, None)]
            if service.provider:
                needs.append((ConsentPurpose.REFERRAL, service.provider))
            if any(active_consent(victim, p, r) is None for p, r in needs):
                service.status = ServiceStatus.CANCELLED
                result.cancelled_services.append(service)
        for disclosure in victim.disclosures:
            if (
                disclosure.cancelled_on is None
                and active_consent(
                    victim, DISCLOSURE_CONSENT[disclosure.recipient_kind], disclosure.recipient
                )
                is None
            ):
                disclosure.cancelled_on = when
                result.cancelled_disclosures.append(disclosure)
    if result.cancelled_services:
        support_summary.refresh(victim.id)
    audit_victim(
        "victim.consent_withdrawn",
        actor=actor,
        victim=victim,
        detail={
            "purpose": consent.purpose,
            "consent": consent.id,
            "cancelled_services": [s.id for s in result.cancelled_services],
            "cancelled_disclosures": [d.id for d in result.cancelled_disclosures],
        },
    )
    return result


DISCLOSURE_CONSENT: dict[str, ConsentPurpose] = {
    RecipientKind.MEMBER_STATE: ConsentPurpose.SHARE_MEMBER_STATE,
    RecipientKind.PROVIDER: ConsentPurpose.REFERRAL,
}


def record_disclosure(
    *, actor: Actor, victim: Victim, recipient_kind: str, recipient: str, purpose: str, shared_on: date | None
) -> Disclosure:
    kind = choice("recipient_kind", recipient_kind, RecipientKind)
    name = clean_text("recipient", recipient, max_length=200, required=True)
    require_consent(victim, DISCLOSURE_CONSENT[kind], name, field="recipient")
    disclosure = Disclosure(
        victim=victim,
        recipient_kind=kind,
        recipient=name,
        purpose=clean_text("purpose", purpose, max_length=200, required=True),
        shared_on=past_date("shared_on", shared_on) or today(),
        recorded_by_id=getattr(actor, "id", None),
    )
    return add_audited(
        disclosure,
        "victim.disclosure",
        actor=actor,
        victim=victim,
        detail=lambda row: {"recipient_kind": kind, "disclosure": row.id},
    )


def export_disclosure(*, actor: Actor, victim: Victim, disclosure: Disclosure) -> bytes:
    """The victim's file for a recorded share, as a workbook: senior advocates only, only while
    the share stands and its consent is in force, and audited (the export holds the identity)."""
    if Role(actor.role) is not Role.SENIOR_ADVOCATE:
        raise NotAllowed(_l("Only a senior advocate may export a victim's identity."))
    if disclosure.victim_id != victim.id:
        raise DomainError(_l("That share belongs to another victim."))
    if disclosure.cancelled_on is not None:
        raise DomainError(_l("This share was cancelled when its consent was withdrawn: nothing to export."))
    require_consent(
        victim, DISCLOSURE_CONSENT[disclosure.recipient_kind], disclosure.recipient, field="recipient"
    )
    identity = {name: getattr(victim, name) for name in IDENTITY_FIELDS}
    facts = [
        ("case code", victim.case_code),
        ("country", victim.country_code),
        ("mission", victim.mission),
        ("sex", victim.sex),
        ("age group at the incident", victim.age_group),
        *((name.replace("_", " "), value) for name, value in identity.items()),
        ("shared with", f"{disclosure.recipient} ({disclosure.recipient_kind.replace('_', ' ')})"),
        ("purpose", disclosure.purpose),
        ("shared on", disclosure.shared_on),
    ]
    services_rows = [
        (s.service_type, s.provider, s.referral_date, s.start_date, s.end_date, s.status, s.cost, s.currency)
        for s in victim.services
    ]
    allegation_rows = [
        (a.reference, a.country_code, a.mission, a.type, a.received_on, a.outcome) for a in victim.allegations
    ]
    workbook = xlsx_bytes(
        [
            ("victim", ["field", "value"], facts),
            (
                "assistance",
                ["service", "provider", "referred", "start", "end", "status", "cost", "currency"],
                services_rows,
            ),
            (
                "allegations",
                ["reference", "country", "mission", "type", "received", "outcome"],
                allegation_rows,
            ),
        ]
    )
    audit_victim(
        "victim.export_identity",
        actor=actor,
        victim=victim,
        detail={"disclosure": disclosure.id, "recipient_kind": disclosure.recipient_kind},
    )
    return workbook
