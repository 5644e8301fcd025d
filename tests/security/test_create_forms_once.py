"""Every create form records once (issue 16, item 1): posted twice with the key its page minted, it
makes one row and sends the second submission to what the first recorded; the same key with other
values is refused (409) and changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.security.conftest import IN_SCOPE, Clients, table_counts, victim_with_everything
from tests.security.forms import rendered_values
from vat.auth.models import Role
from vat.db import db

YESTERDAY = "{yesterday}"  # filled as the test runs (`records`)


@dataclass
class CreateForm:
    endpoint: str
    page: str  # the page that renders the form (and mints its key)
    table: str  # the table that gains one row
    values: dict[str, str | None]
    changed: dict[str, str | None]
    post: str = ""  # where the form posts, if not to its page
    role: Role = Role.ADVOCATE
    args: dict[str, Any] = field(default_factory=dict)


CREATE_FORMS = [
    CreateForm(
        "victims.create",
        "/vat/victims/new",
        "vat_victim",
        {"country_code": IN_SCOPE, "mission": "MINUSCA", "sex": "female", "name": "Test person"},
        {"name": "Another person"},
    ),
    CreateForm(
        "victims.create_assistance",
        "/vat/victims/{victim_id}/assistance/new",
        "vat_assistance",
        {
            "service_type": "medical",
            "provider_id": "",  # typed, not chosen from the directory
            "provider": "Clinic",
            "status": "referred",
            "referral_date": YESTERDAY,
        },
        {"provider": "Another clinic"},
    ),
    CreateForm(
        "providers.create",
        "/vat/providers/new",
        "vat_provider",
        {"name": "Clinique de test", "country_code": IN_SCOPE, "service_types": "medical"},
        {"name": "Autre clinique"},
        role=Role.SENIOR_ADVOCATE,
    ),
    CreateForm(
        "victims.create_child",
        "/vat/victims/{victim_id}/children/new",
        "vat_child",
        {"sex": "female", "birth_date": YESTERDAY},
        {"sex": "male"},
    ),
    CreateForm(
        "victims.create_communication",
        "/vat/victims/{victim_id}/communications/new",
        "vat_communication",
        {"occurred_on": YESTERDAY, "channel": "phone", "summary": "Called"},
        {"summary": "Called again"},
    ),
    CreateForm(
        "victims.assess_need",
        "/vat/victims/{victim_id}/needs/new",
        "vat_need",
        {"need_type": "livelihood", "status": "unmet", "reason": "no_funds", "assessed_on": YESTERDAY},
        {"reason": "waiting_list"},
    ),
    CreateForm(
        "victims.record_service_feedback",
        "/vat/victims/{victim_id}/assistance/{service_id}/feedback/new",
        "vat_feedback",
        {"satisfaction": "satisfied", "given_on": YESTERDAY},
        {"satisfaction": "unsure"},
    ),
    CreateForm(
        "victims.record_update_feedback",
        "/vat/victims/{victim_id}/communications/{communication_id}/feedback/new",
        "vat_feedback",
        {"satisfaction": "not_satisfied", "given_on": YESTERDAY},
        {"satisfaction": "unsure"},
    ),
    CreateForm(
        "victims.create_consent",
        "/vat/victims/{victim_id}/consents/new",
        "vat_consent",
        {"purpose": "services", "given_on": YESTERDAY, "method": "written", "version": "9"},
        {"version": "10"},
    ),
    CreateForm(
        "victims.create_disclosure",
        "/vat/victims/{victim_id}/disclosures/new",
        "vat_disclosure",
        {"recipient_kind": "provider", "recipient": "Clinic", "purpose": "Care", "shared_on": YESTERDAY},
        {"purpose": "Other care"},
    ),
    CreateForm(
        "victims.link_allegation",
        "/vat/victims/{victim_id}",
        "vat_victim_allegation",
        {"reference": "{unlinked_reference}"},
        {"reference": "{other_reference}"},
        post="/vat/victims/{victim_id}/allegations",
    ),
    CreateForm(
        "allegations.create",
        "/vat/allegations/new",
        "vat_allegation",
        {"reference": "9999/26", "country_code": IN_SCOPE, "mission": "MINUSCA", "reported_on": YESTERDAY},
        {"mission": "OTHER"},
    ),
    CreateForm(
        "allegations.link_victim",
        "/vat/allegations/{allegation_id}",
        "vat_victim_allegation",
        {"case_code": "{unlinked_case_code}"},
        {"case_code": "{other_case_code}"},
        post="/vat/allegations/{allegation_id}/victims",
    ),
    CreateForm(
        "claims.open_claim",
        "/vat/claims/new?victim={victim_id}",
        "vat_claim",
        {"opened_on": YESTERDAY, "father_unit": "Unit 1", "with_consent": None},
        {"father_unit": "Unit 2"},
    ),
    CreateForm(
        "claims.record_letter",
        "/vat/claims/{claim_id}/letters/new",
        "vat_claim_letter",
        {"dated_on": YESTERDAY, "reference": "L-1"},
        {"reference": "L-2"},
    ),
    CreateForm(
        "allegations.record_cycle_step",
        "/vat/allegations/{allegation_id}/cycle/new",
        "vat_accountability_step",
        {"step": "interim_measure", "measure": "suspension", "dated_on": YESTERDAY, "reference": "S-1"},
        {"reference": "S-2"},
    ),
    CreateForm(
        "allegations.record_letter",
        "/vat/allegations/{allegation_id}/letters/new",
        "vat_claim_letter",
        {"dated_on": YESTERDAY, "reference": "L-1"},
        {"reference": "L-2"},
    ),
    CreateForm(
        "claims.record_step",
        "/vat/claims/{ordering_claim_id}/step/support_ordered",
        "vat_claim_order",
        {"on": YESTERDAY, "starts_on": YESTERDAY, "amount": "50", "currency": "USD", "frequency": "monthly"},
        {"amount": "60"},
    ),
    CreateForm(
        "claims.record_payment",
        "/vat/claims/{paying_claim_id}/payments/new",
        "vat_claim_payment",
        {"amount": "50", "received_on": YESTERDAY, "reference": "P-1"},
        {"amount": "51"},
    ),
    CreateForm(
        "claims.record_update",
        "/vat/claims/{claim_id}/inform",
        "vat_communication",
        {"occurred_on": YESTERDAY, "channel": "phone", "summary": "Told"},
        {"summary": "Told again"},
    ),
    CreateForm(
        "admin.create_user",
        "/admin/users/new",
        "auth_user",
        {
            "username": "new.user",
            "password": "a long enough password 123",
            "role": "auditor",  # created at once: a privileged account waits for a second admin
            "scope": "CAF",
        },
        {"username": "other.user"},
        role=Role.ADMIN,
    ),
    CreateForm(
        "ledger.create_donor",
        "/ledger/donors/new",
        "ledger_donor",
        {"kind": "other", "country_code": "", "name": "A foundation"},
        {"name": "Another foundation"},
        role=Role.FUND_MANAGER,
    ),
]


def records(app: Flask) -> dict[str, str | int]:
    """Seeded records of the scope each form is posted on."""
    from vat.allegations.models import Allegation
    from vat.claims.models import Claim, ClaimStep
    from vat.victims.models import Assistance, Communication, Victim, VictimAllegation

    with app.app_context():
        victim = victim_with_everything(IN_SCOPE)
        linked = set(
            db.session.scalars(
                select(VictimAllegation.allegation_id).where(VictimAllegation.victim_id == victim.id)
            )
        )
        allegations = db.session.scalars(
            select(Allegation).where(Allegation.country_code == IN_SCOPE).order_by(Allegation.id)
        ).all()
        unlinked = [a for a in allegations if a.id not in linked]
        allegation = allegations[0]
        on_it = set(
            db.session.scalars(
                select(VictimAllegation.victim_id).where(VictimAllegation.allegation_id == allegation.id)
            )
        )
        others = db.session.scalars(
            select(Victim.case_code)
            .where(Victim.country_code == IN_SCOPE, Victim.id.not_in(on_it))
            .order_by(Victim.id)
        ).all()
        claims = db.session.scalars(
            select(Claim).join(Victim).where(Victim.country_code == IN_SCOPE).order_by(Claim.id)
        ).all()
        open_claim = next(c for c in claims if c.current_step is not ClaimStep.CLOSED)
        ordering = next(
            c for c in claims if c.current_step in (ClaimStep.PATERNITY_ESTABLISHED, ClaimStep.PAYING)
        )
        paying = next(c for c in claims if c.orders and c.current_step is not ClaimStep.CLOSED)
        return {
            "yesterday": (date.today() - timedelta(days=1)).isoformat(),
            "victim_id": victim.id,
            "service_id": db.session.scalars(
                select(Assistance.id).where(Assistance.victim_id == victim.id)
            ).first(),
            "communication_id": db.session.scalars(
                select(Communication.id).where(Communication.victim_id == victim.id)
            ).first(),
            "unlinked_reference": unlinked[0].reference,
            "other_reference": unlinked[1].reference,
            "allegation_id": allegation.id,
            "unlinked_case_code": others[0],
            "other_case_code": others[1],
            "claim_id": open_claim.id,
            "ordering_claim_id": ordering.id,
            "paying_claim_id": paying.id,
        }


def filled(
    data: dict[str, str], values: dict[str, str | None], known: dict[str, str | int]
) -> dict[str, str]:
    """`data` with `values` put in (their {placeholders} filled from `known`; None: left out)."""
    result = {**data, **{name: value.format(**known) for name, value in values.items() if value is not None}}
    return {name: value for name, value in result.items() if values.get(name, "") is not None}


def minted_key(html: str) -> str:
    keys = re.findall(r'name="key" type="hidden" value="([0-9a-f]{32})"', html)
    assert len(keys) == 1, "the page renders one keyed form"
    return keys[0]


@pytest.mark.parametrize("form", CREATE_FORMS, ids=lambda f: f.endpoint)
def test_a_create_form_posted_twice_records_once(app, make_user, form: CreateForm):
    known = records(app)
    client = Clients(app, make_user).signed_in(form.role)
    page = client.get(form.page.format(**known))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = {name: values[0] for name, values in rendered_values(html).items()}
    data = filled(data, form.values, known) | {"key": minted_key(html)}
    target = (form.post or form.page).format(**known)
    before = table_counts(app)[form.table]

    first = client.post(target, data=data)
    assert first.status_code == 302, re.findall(
        r"role=\"(?:alert|status)\">([^<]*)", first.get_data(as_text=True)
    )
    assert table_counts(app)[form.table] == before + 1

    again = client.post(target, data=data, follow_redirects=False)
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert table_counts(app)[form.table] == before + 1
    assert "Already recorded" in client.get(again.headers["Location"]).get_data(as_text=True)

    changed = client.post(target, data=filled(data, form.changed, known))
    assert changed.status_code in (302, 409)
    if form.post:  # a small form on another page: refused with a message there
        assert "different values" in client.get(changed.headers["Location"]).get_data(as_text=True)
    else:
        assert changed.status_code == 409 and "different values" in changed.get_data(as_text=True)
    assert table_counts(app)[form.table] == before + 1


def test_every_create_form_is_tested_here(app):
    """A create route added later (its path ends in /new) must be listed above, unless it books
    money: the ledger's forms were keyed first, and tests/ledger posts them twice."""
    tested = {form.endpoint for form in CREATE_FORMS}
    creating = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.rule.endswith("/new") and not rule.endpoint.startswith("ledger.")
    }
    assert creating - tested == set()


def test_a_small_form_repeated_after_its_choice_went_is_answered_as_a_repeat(database_url: str):
    """A small form handled by `act` (shown on another page) and sent twice: the first submission
    closed the task it names, so the second no longer validates; it is still a repeat (302 to the
    result, "Already recorded"), not an error, and nothing is applied twice."""
    from flask import Blueprint, flash, redirect
    from wtforms import SelectField

    from tests.conftest import make_app
    from vat import audit
    from vat.auth.policy import public
    from vat.request_keys import KeyedForm
    from vat.submission import act

    open_tasks = {"a", "b"}

    class CloseForm(KeyedForm):
        task = SelectField()

    def close(task: str) -> None:
        audit.record("test.task_closed", actor=None)
        open_tasks.discard(task)

    bp = Blueprint("small_form_test", __name__)

    @bp.post("/small-form-test")
    @public
    def close_task() -> Any:
        form = CloseForm()
        form.task.choices = sorted(open_tasks)
        if not form.validate_on_submit():
            flash("Choose an open task.", "error")
            return redirect("/small-form-test/page")
        return act(lambda: close(form.task.data), done="Closed.", back="/small-form-test/page", form=form)

    application = make_app(database_url)
    application.register_blueprint(bp)
    client = application.test_client()

    def closed() -> int:
        with application.app_context():
            return (
                db.session.scalar(select(func.count()).where(audit.AuditEvent.action == "test.task_closed"))
                or 0
            )

    def flashes() -> list[str]:
        with client.session_transaction() as session:
            return [message for _category, message in session.pop("_flashes", [])]

    data = {"task": "a", "key": "7" * 32}
    first = client.post("/small-form-test", data=data)
    assert first.status_code == 302 and flashes() == ["Closed."]
    again = client.post("/small-form-test", data=data)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert [m[:17] for m in flashes()] == ["Already recorded:"]
    assert closed() == 1 and open_tasks == {"b"}
    # Another key with the task gone is an error, not a repeat.
    assert client.post("/small-form-test", data={**data, "key": "8" * 32}).status_code == 302
    assert flashes() == ["Choose an open task."] and closed() == 1
