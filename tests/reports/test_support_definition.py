"""Every reader of "supported" — the per-victim report's headline, the victims list's "no
assistance yet" filter, the needs-attention page and the victim page's open item — says the same
thing, and a beneficiary listing alone is not support (issue 14, item 4)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ledger.models import DonorKind, Entry, ProjectFocus
from ledger.services import contributions, corrections
from tests.ledger.conftest import Fund
from tests.vat.conftest import assist
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.scope import VictimFilters
from vat.reports.support import headline
from vat.victims import identity, listing, support_summary
from vat.victims.consents import record_consent
from vat.victims.timeline import open_items


def _readers_say(user: User, code: str) -> dict[str, bool]:
    """Whether each reader counts the victim `code` as supported."""
    victim_id = db.session.scalar(select(identity.Victim.id).where(identity.Victim.case_code == code))
    unassisted = listing.victim_rows(user, listing.VictimFilters(no_assistance=True))
    return {
        "summary": support_summary.supported(victim_id),
        "headline": headline(user, VictimFilters(), money=False).supported == 1,
        "list": code not in {row.case_code for row in db.session.execute(unassisted)},
        "attention": code not in {c for _, c in listing.attention(user, mine_only=False).no_assistance},
        "victim page": "no_assistance"
        not in {i.kind for i in open_items(db.session.get_one(identity.Victim, victim_id), [])},
    }


def test_a_victim_on_a_project_whose_approval_was_reversed_is_not_supported(app, make_user):
    advocate_id = make_user(Role.SENIOR_ADVOCATE, "CAF").id
    manager_id = make_user(Role.FUND_MANAGER, "").id
    on = date.today() - timedelta(days=5)
    with app.test_request_context():
        advocate = db.session.get_one(User, advocate_id)
        manager = db.session.get_one(User, manager_id)
        victim = identity.register_victim(actor=advocate, country_code="CAF", mission="MINUSCA")
        code = victim.case_code
        identity.register_victim(actor=advocate, country_code="CAF", mission="MINUSCA")  # never helped
        donor = contributions.create_donor(actor=manager, name="Donor", kind=DonorKind.OTHER)
        fund = Fund(manager)
        fund.receive(donor, "5000.00", on, bank_reference="B-1")
        project = fund.project(
            "1000.00",
            on,
            until=on + timedelta(days=200),
            title="Cash for rent",
            focus=ProjectFocus.DIRECT_SUPPORT,
            case_codes=[code],
        )
        db.session.commit()
        assert set(_readers_say(advocate, code).values()) == {False}  # listed, nothing paid

        corrections.reverse_entry(
            actor=manager,
            key="reverse",
            entry=db.session.get_one(Entry, project.entry_id),
            on=on,
            reason="approved by mistake",
        )
        db.session.commit()
        assert set(_readers_say(advocate, code).values()) == {False}
        assert headline(advocate, VictimFilters(), money=False).not_supported == 2

        victim = db.session.get_one(identity.Victim, victim.id)
        record_consent(
            actor=advocate, victim=victim, purpose="services", given_on=on, method="written", version="1"
        )
        assist(advocate, victim, "completed", on)
        db.session.commit()
        assert set(_readers_say(advocate, code).values()) == {True}
        # A viewer whose reach is every victim (no condition on the victims at all) counts the same.
        counted = headline(manager, VictimFilters(), money=False)
        assert (counted.victims, counted.supported) == (2, 1)
        assert support_summary.differences() == []
