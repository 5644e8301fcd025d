"""The victim's page: everything that happened, newest first, and what is owed or pending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from vat import money
from vat.allegations.clock import overdue_steps
from vat.allegations.models import ClockRule, Step
from vat.db import db
from vat.inputs import today
from vat.victims import labels, letters, support_summary
from vat.victims.assistance import STUCK_DAYS
from vat.victims.labels import vat_label
from vat.victims.listing import no_update_days
from vat.victims.models import (
    Assistance,
    Child,
    Communication,
    Feedback,
    Need,
    ServiceStatus,
    Victim,
    VictimAllegation,
    VictimStatus,
    VictimTask,
)
from vat.victims.needs import NOT_MET
from vat.victims.outcomes import task_label
from vat.victims.partner_support import PartnerSupport


@dataclass(frozen=True)
class Event:
    on: date
    kind: str
    title: str
    detail: str = ""
    amount: Decimal | None = None  # money received, in `currency` (shown the reader's way)
    currency: str = ""


def load_victim_file(victim: Victim) -> None:
    """Load everything the victim page shows in a fixed number of queries."""
    db.session.execute(
        select(Victim)
        .where(Victim.id == victim.id)
        .options(
            selectinload(Victim.consents),
            selectinload(Victim.services).undefer(Assistance.notes),
            selectinload(Victim.children).undefer(Child.notes),
            selectinload(Victim.communications).undefer(Communication.summary),
            selectinload(Victim.tasks).selectinload(VictimTask.allegation),
            selectinload(Victim.advocate),
            selectinload(Victim.disclosures),
            selectinload(Victim.needs).undefer(Need.note),
            selectinload(Victim.feedback).undefer(Feedback.complaint_text),
            selectinload(Victim.allegation_links).selectinload(VictimAllegation.allegation),
        )
        .execution_options(populate_existing=True)  # undefer notes of rows already in the session
    ).all()


def timeline(victim: Victim) -> list[Event]:
    """Everything that happened to and for the victim, newest first, in the reader's language."""
    events = [Event(victim.registered_on, "case", _("Case registered"), victim.case_code)]
    for link in victim.allegation_links:
        allegation = link.allegation
        for step in Step:
            when = allegation.step_date(step)
            if when:
                title = _(
                    "Allegation %(reference)s: %(step)s", reference=allegation.reference, step=_step(step)
                )
                events.append(Event(when, "allegation", title))
    for service in victim.services:
        name = vat_label(service.service_type)
        provider = f" ({service.provider})" if service.provider else ""
        if service.referral_date:
            title = _("Referred for %(service)s help", service=name) + provider
            events.append(Event(service.referral_date, "service", title))
        if service.start_date:
            title = _("%(service)s help started", service=name.capitalize()) + provider
            events.append(Event(service.start_date, "service", title))
        if service.end_date:
            title = _("%(service)s help ended", service=name.capitalize()) + provider
            events.append(Event(service.end_date, "service", title, vat_label(service.status)))
    for communication in victim.communications:
        channel = vat_label(communication.channel)
        title = (
            _("Contact by %(channel)s — case update given", channel=channel)
            if communication.case_update_given
            else _("Contact by %(channel)s", channel=channel)
        )
        events.append(Event(communication.occurred_on, "communication", title, communication.summary or ""))
    for consent in victim.consents:
        purpose = vat_label(consent.purpose)
        title = _(
            "Consent to %(purpose)s given (%(method)s)", purpose=purpose, method=vat_label(consent.method)
        )
        events.append(Event(consent.given_on, "consent", title))
        if consent.withdrawn_on:
            events.append(
                Event(consent.withdrawn_on, "consent", _("Consent to %(purpose)s withdrawn", purpose=purpose))
            )
    for child in victim.children:
        if child.birth_date:
            events.append(
                Event(child.birth_date, "child", _("Child born (%(sex)s)", sex=vat_label(child.sex)))
            )
    for disclosure in victim.disclosures:
        title = _(
            "Shared with %(kind)s %(recipient)s",
            kind=vat_label(disclosure.recipient_kind),
            recipient=disclosure.recipient,
        )
        events.append(Event(disclosure.shared_on, "disclosure", title))
    reported = select(PartnerSupport).where(PartnerSupport.victim_id == victim.id).order_by(PartnerSupport.id)
    for line in db.session.scalars(reported):
        title = _(
            "An implementing partner reported %(support)s support (project %(project)s)",
            support=vat_label(line.support),
            project=line.project_id,
        )
        paid = money.from_minor(line.amount_minor, line.currency) if line.amount_minor else None
        events.append(Event(line.provided_on or line.reported_on, "service", title, "", paid, line.currency))
    # Newest first; within one day, in the order things happen (registered, consented, referred, told).
    order = {"case": 0, "consent": 1, "allegation": 2, "disclosure": 3, "service": 4, "child": 5}
    ranked = sorted(enumerate(events), key=lambda p: (p[1].on, order.get(p[1].kind, 6), p[0]), reverse=True)
    return [event for _index, event in ranked]


def _step(step: str) -> str:
    return labels.step_label(step).lower()


@dataclass(frozen=True)
class OpenItem:
    kind: str
    text: str


def open_items(victim: Victim, rule_list: list[ClockRule], on: date | None = None) -> list[OpenItem]:
    """What is owed to or pending for this victim (the victim page lists them first)."""
    on = on or today()
    items: list[OpenItem] = []
    for link in victim.allegation_links:
        for state in overdue_steps(link.allegation, rule_list, on):
            text = _(
                "Allegation %(reference)s: %(step)s %(state)s",
                reference=link.allegation.reference,
                step=_step(state.step),
                state=labels.step_text(state),
            )
            items.append(OpenItem("overdue_step", text))
    for service in victim.services:
        if _stuck(service, on) and service.referral_date is not None:
            text = _(
                "%(service)s referral not started after %(days)s days",
                service=vat_label(service.service_type).capitalize(),
                days=(on - service.referral_date).days,
            )
            items.append(OpenItem("stuck_service", text))
    for task in victim.tasks:
        if task.closed_at is None:
            text = task_label(task)
            due = letters.due_on(task)
            text += ", " + _("by %(date)s", date=due.isoformat())
            items.append(OpenItem("overdue_task" if due < on else "task", text))
    for need in victim.needs:
        if need.status in NOT_MET:
            text = _(
                "Need %(need)s: %(status)s", need=vat_label(need.need_type), status=vat_label(need.status)
            )
            items.append(OpenItem("need", text))
    supported = support_summary.supported(victim.id)  # read for every victim: the page's queries stay fixed
    if victim.status == VictimStatus.ACTIVE:
        since = victim.last_update_on or victim.registered_on
        days = (on - since).days
        if days >= no_update_days():
            text = (
                _("No case update for %(days)s days (since the last update)", days=days)
                if victim.last_update_on
                else _("No case update for %(days)s days (since registration, never updated)", days=days)
            )
            items.append(OpenItem("no_update", text))
        if victim.next_update_due and victim.next_update_due < on:
            text = _("Next update was due on %(date)s", date=victim.next_update_due.isoformat())
            items.append(OpenItem("update_due", text))
        if not supported:
            items.append(OpenItem("no_assistance", _("No assistance received yet")))
    return items


def _stuck(service: Assistance, on: date) -> bool:
    return (
        service.status == ServiceStatus.REFERRED
        and service.start_date is None
        and service.referral_date is not None
        and (on - service.referral_date).days >= STUCK_DAYS
    )
