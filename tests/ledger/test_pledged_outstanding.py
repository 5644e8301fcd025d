"""What is outstanding of each pledge, kept on the pledge (`ledger.pledged_outstanding`): exact in
the transaction of every booking that changes it, the same answer as the postings' sum that the
receipt form used to read, named by `flask figures verify` when altered behind the app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import and_, func, select, text, update

from ledger import engine, pledged_outstanding
from ledger.engine import PLEDGES_RECEIVABLE
from ledger.models import Donor, Entry, Pledge, Posting, Receipt
from ledger.outflows import Outflow
from ledger.reports import donor_figures
from ledger.services import contributions, four_eyes
from tests.conftest import BACKEND
from tests.figures_checks import altered_behind_the_app, mended_by_rebuild
from tests.ledger.conftest import Fund, key, run_together
from vat.auth.models import Role, User
from vat.db import db

TODAY = date(2019, 6, 28)


def from_postings(donor: Donor, limit: int) -> list[tuple[str | None, D]]:
    """The receipt form's open pledges as they were read before the figure was kept: every
    posting on pledges receivable of the donor's pledges, summed per pledge."""
    outstanding = func.sum(Posting.amount_minor)
    rows = db.session.execute(
        select(Pledge, outstanding)
        .join(
            Posting,
            and_(
                Posting.pledge_id == Pledge.id,
                Posting.account_id == engine.account_id(PLEDGES_RECEIVABLE),
                Posting.currency == Pledge.currency,
            ),
        )
        .where(Pledge.donor_id == donor.id)
        .group_by(Pledge.id)
        .having(outstanding > 0)
        .order_by(Pledge.pledged_on, Pledge.id)
        .limit(limit)
    )
    return [(pledge.reference, engine.from_minor(minor, pledge.currency)) for pledge, minor in rows]


def kept(donor: Donor, limit: int = 10) -> list[tuple[str | None, D]]:
    return [(p.reference, outstanding) for p, outstanding in donor_figures.open_pledges(donor, limit=limit)]


def reverse(fund: Fund, booked: Pledge | Receipt) -> Entry | Outflow:
    return fund.reverse(db.session.get_one(Entry, booked.entry_id), on=TODAY, reason="booked by mistake")


def outstanding_of(reference: str) -> int:
    return db.session.scalar(select(Pledge.outstanding_minor).where(Pledge.reference == reference)) or 0


@pytest.fixture
def sweden(fund: Fund) -> Donor:
    """Pledges in two currencies: E-1 partly received twice (one receipt reversed), U-2 received in
    full then its receipt reversed, U-3 reversed, E-4 received in full, U-5 untouched, yen's J-6
    received in part (no minor units)."""
    donor = fund.donor("SWE")
    for currency, rate in (("EUR", "0.9"), ("JPY", "110")):
        for month in (date(2019, 1, 1), date(2019, 2, 1)):
            fund.rate(currency, month, rate)
    e1 = fund.pledge(donor, "1000.50", date(2019, 1, 5), "EUR", reference="E-1")
    u2 = fund.pledge(donor, "500", date(2019, 1, 6), "USD", reference="U-2")
    u3 = fund.pledge(donor, "300", date(2019, 1, 7), "USD", reference="U-3")
    e4 = fund.pledge(donor, "200", date(2019, 1, 8), "EUR", reference="E-4")
    fund.pledge(donor, "50", date(2019, 1, 9), "USD", reference="U-5")
    j6 = fund.pledge(donor, "90000", date(2019, 1, 10), "JPY", reference="J-6")
    fund.receive(donor, "400.25", date(2019, 2, 1), "EUR", pledge=e1)
    reverse(fund, fund.receive(donor, "100", date(2019, 2, 2), "EUR", pledge=e1))
    reverse(fund, fund.receive(donor, "500", date(2019, 2, 3), pledge=u2))
    reverse(fund, u3)
    fund.receive(donor, "200", date(2019, 2, 4), "EUR", pledge=e4)
    fund.receive(donor, "30000", date(2019, 2, 5), "JPY", pledge=j6)
    fund.receive(donor, "75", date(2019, 2, 6))  # unpledged: no pledge's
    db.session.commit()
    return donor


def test_open_pledges_read_from_the_pledges_give_what_the_postings_gave(sweden):
    assert (
        kept(sweden)
        == from_postings(sweden, 10)
        == [
            ("E-1", D("600.25")),
            ("U-2", D("500.00")),
            ("U-5", D("50.00")),
            ("J-6", D(60000)),
        ]
    )
    assert kept(sweden, limit=2) == from_postings(sweden, 2)
    assert pledged_outstanding.KEPT.differences() == []


def test_each_booking_changes_the_figure_in_its_transaction(fund, sweden):
    pledged = fund.pledge(sweden, "700", date(2019, 3, 1), "USD", reference="U-7")
    assert outstanding_of("U-7") == 70_000  # all of it, as soon as it is booked
    receipt = fund.receive(sweden, "250", date(2019, 3, 2), pledge=pledged)
    assert outstanding_of("U-7") == 45_000 and pledged.outstanding_minor == 45_000
    reverse(fund, receipt)
    assert outstanding_of("U-7") == 70_000
    reverse(fund, pledged)
    assert outstanding_of("U-7") == 0
    assert pledged_outstanding.KEPT.differences() == []
    assert kept(sweden) == from_postings(sweden, 10)


def test_a_pledge_reversed_with_four_eyes_keeps_its_figure_until_the_reversal_is_approved(fund, sweden):
    large = fund.pledge(sweden, "20000", date(2019, 3, 1), "USD", reference="U-8")
    pending = reverse(fund, large)
    assert isinstance(pending, Outflow) and outstanding_of("U-8") == 2_000_000
    assert ("U-8", D(20000)) in kept(sweden)
    four_eyes.approve(actor=fund.second(), outflow=pending)
    assert outstanding_of("U-8") == 0 and "U-8" not in dict(kept(sweden))
    assert kept(sweden) == from_postings(sweden, 10)
    assert pledged_outstanding.KEPT.differences() == []


def test_the_pages_of_pledges_read_the_kept_figure(sweden):
    rows = donor_figures.donor_pledges(sweden, page=1, per_page=10).items
    assert [(r["pledge"].reference, r["received"], r["outstanding"], r["reversed"]) for r in rows] == [
        ("J-6", D(30000), D(60000), False),
        ("U-5", D(0), D(50), False),
        ("E-4", D(200), D(0), False),
        ("U-3", D(0), D(0), True),
        ("U-2", D(0), D(500), False),
        ("E-1", D("400.25"), D("600.25"), False),
    ]


def test_verify_names_a_pledge_altered_behind_the_app_and_rebuild_mends_it(sweden, runner):
    result = altered_behind_the_app(
        runner, "UPDATE ledger_pledge SET outstanding_minor = outstanding_minor + 7 WHERE reference = 'U-5'"
    )
    assert result.exit_code == 1
    assert "pledges outstanding: pledge" in result.output
    assert "holds 5007; its postings on pledges receivable add up to 5000" in result.output
    assert "pledges outstanding: 6 rows" in mended_by_rebuild(runner)
    assert kept(sweden) == from_postings(sweden, 10)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's planner without statistics")
def test_verify_and_rebuild_read_each_pledges_sum_from_one_index(ctx):
    """Without statistics (a database never analysed), SQLite once chose the index on (account,
    id) and read every posting on the account for each pledge: hours at 100,000 victims."""
    source = pledged_outstanding.KEPT.source
    statements = [
        update(Pledge).values(outstanding_minor=source()),
        select(Pledge.id).where(Pledge.outstanding_minor != source()),
    ]
    assert db.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) == 0
    for statement in statements:
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " | ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "COVERING INDEX ix_ledger_posting_pledge_id_figures" in plan, plan


def test_receipts_against_one_pledge_at_once_keep_it_exact(ctx, fund):
    """Three receipts at the same moment, of which any two fit: each adds to the figure in the
    database, under the ledger's lock, so the two booked both count and the third is refused."""
    donor = fund.donor("NOR")
    pledge_id = fund.pledge(donor, "1000", date(2019, 1, 5), "USD", reference="P-1").id
    db.session.commit()

    def receipt(amount: str) -> Callable[[User], object]:
        return lambda actor: contributions.record_receipt(
            actor=actor,
            key=key(),
            donor=db.session.get_one(Donor, donor.id),
            pledge=db.session.get_one(Pledge, pledge_id),
            amount=D(amount),
            currency="USD",
            received_on=date(2019, 2, 1),
            bank_reference="BANK",
        )

    jobs = [
        (fund.maker.id, receipt("300")),
        (fund.second().id, receipt("400")),
        (fund.maker.id, receipt("500")),
    ]
    db.session.commit()
    outcomes = run_together(ctx, jobs)
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "ok", "refused"], outcomes
    db.session.expire_all()
    received = db.session.scalar(select(func.sum(Receipt.amount_minor)).where(Receipt.pledge_id == pledge_id))
    assert outstanding_of("P-1") == 100_000 - received > 0
    assert pledged_outstanding.KEPT.differences() == []


def test_the_receipt_form_offers_a_pledge_again_once_its_receipt_is_reversed(fund, client, login):
    donor = fund.donor("NOR")
    pledged = fund.pledge(donor, "100", date(2019, 1, 1), "USD", reference="P-1")
    receipt = fund.receive(donor, "100", date(2019, 2, 1), pledge=pledged)
    db.session.commit()
    login(Role.FUND_MANAGER, "")
    path = f"/ledger/donors/{donor.id}/receipt"
    assert "outstanding</option>" not in client.get(path).get_data(as_text=True)
    reverse(fund, receipt)
    db.session.commit()
    form = client.get(path).get_data(as_text=True)
    assert f'<option selected value="{pledged.id}">' in form and "USD 100.00 outstanding" in form
