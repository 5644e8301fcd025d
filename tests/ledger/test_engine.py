"""The posting engine and the fund's events, without HTTP: each invariant, and an attempt to break it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from ledger import engine
from ledger.engine import EntryKind, Line
from ledger.models import Entry, Posting, ProjectStatus
from ledger.reports import subledgers, withheld
from ledger.services import contributions, grants, months, victim_support
from ledger.verify import verify
from tests.conftest import BACKEND
from tests.ledger.conftest import PASSWORD, key, post_receipt
from vat.auth import services as auth
from vat.auth.models import Role
from vat.db import db
from vat.errors import Conflict, DomainError, NotAllowed

D = Decimal


def auth_user(role: Role, scope: str):
    return auth.create_user(actor=None, username=f"u{role.value}", password=PASSWORD, role=role, scope=scope)


def entries() -> int:
    return db.session.scalar(select(func.count(Entry.id)))


# --- money and rounding ----------------------------------------------------------------------


def test_conversion_rounds_half_to_even_and_minor_units_follow_the_currency(fund):
    assert engine.to_usd(D("0.125"), D(1)) == D("0.12")
    assert engine.to_usd(D("0.135"), D(1)) == D("0.14")
    assert engine.to_usd(D("100"), D("3")) == D("33.33")
    assert engine.to_minor(D("1234"), "JPY") == 1234
    assert engine.to_minor(D("1.234"), "KWD") == 1234
    assert engine.to_minor(D("12.34"), "USD") == 1234
    with pytest.raises(DomainError, match="at most 0 decimal places"):
        engine.to_minor(D("1.5"), "JPY")
    with pytest.raises(DomainError, match="at most 2 decimal places"):
        engine.to_minor(D("0.001"), "USD")
    with pytest.raises(TypeError):
        engine.to_minor(0.1, "USD")  # type: ignore[arg-type]


def test_rounding_residual_goes_to_a_zero_line_on_the_rounding_account(fund):
    fund.contribute("10")
    rate = fund.rate("EUR", date(2019, 1, 1), "3")
    k = key()
    assert engine.begin(k, {}) is None
    entry = engine.post(
        fund.maker,
        engine.Event(
            key=k,
            payload={},
            kind=EntryKind.RECEIPT,
            entry_date=date(2019, 1, 15),
            memo="three lines at a rate that leaves a cent",
            lines=[
                Line(engine.CASH, "EUR", D("0.02"), rate),  # 0.0067 → 0.01
                Line(engine.CONTRIBUTIONS, "EUR", D("-0.01"), rate),  # 0.0033 → 0.00
                Line(engine.CONTRIBUTIONS, "EUR", D("-0.01"), rate),
            ],
        ),
    )
    residual = [p for p in entry.postings if p.account_id == engine.account_id(engine.ROUNDING)]
    assert len(residual) == 1 and residual[0].amount_minor == 0 and residual[0].usd_minor == -1
    assert sum(p.usd_minor for p in entry.postings) == 0
    assert verify().problem is None


def test_unbalanced_single_line_and_zero_entries_are_refused(fund):
    fund.contribute("10")
    for lines, message in (
        ([Line(engine.CASH, "USD", D("5")), Line(engine.CONTRIBUTIONS, "USD", D("-4"))], "balance"),
        ([Line(engine.CASH, "USD", D("0"))], "zero"),
        ([Line(engine.CASH, "USD", D("5"))], "two lines|balance"),
    ):
        with pytest.raises(DomainError, match=message):
            post_receipt(lines)


# --- append-only, enforced by the database ---------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_posting SET amount_minor = amount_minor + 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_entry SET memo = 'edited'",
        "DELETE FROM ledger_entry",
    ],
)
def test_raw_sql_cannot_update_or_delete_entries_or_postings(fund, statement):
    fund.contribute("10")
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert verify().problem is None


def test_a_closed_period_cannot_be_reopened_by_raw_sql(fund):
    fund.contribute("10")
    months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM ledger_period"))
    db.session.rollback()


@pytest.mark.skipif(BACKEND != "postgres", reason="deferred constraint triggers are PostgreSQL's")
def test_postgres_refuses_an_unbalanced_entry_booked_by_raw_sql_at_commit(fund):
    fund.contribute("10")
    db.session.commit()
    cash = engine.account_id(engine.CASH)
    db.session.execute(
        text(
            "INSERT INTO ledger_entry (seq, entry_date, kind, memo, idempotency_key, request_hash,"
            " created_at, prev_hash, hash)"
            " VALUES (99, '2019-01-02', 'receipt', 'forged', 'k', 'h', now(), 'p', 'forged')"
        )
    )
    entry_id = db.session.scalar(text("SELECT id FROM ledger_entry WHERE seq = 99"))
    for amount in (100, -99):
        db.session.execute(
            text(
                "INSERT INTO ledger_posting (entry_id, account_id, currency, amount_minor, rate, usd_minor,"
                " running_usd_minor) VALUES (:e, :a, 'USD', :m, 100000000, :m, 0)"
            ),
            {"e": entry_id, "a": cash, "m": amount},
        )
    with pytest.raises(DatabaseError, match="does not balance"):
        db.session.commit()
    db.session.rollback()


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_key_books_once_and_a_changed_payload_is_a_conflict(fund):
    donor = fund.donor()
    k = key()
    kwargs = dict(donor=donor, currency="USD", amount=D("1000"), pledged_on=date(2019, 1, 3))
    first = contributions.record_pledge(actor=fund.maker, key=k, **kwargs)
    again = contributions.record_pledge(actor=fund.maker, key=k, **kwargs)
    assert again.id == first.id and entries() == 1
    with pytest.raises(Conflict):
        contributions.record_pledge(actor=fund.maker, key=k, **{**kwargs, "amount": D("1001")})
    assert entries() == 1


# --- reversals -------------------------------------------------------------------------------


def test_a_reversal_mirrors_the_entry_once_and_cannot_be_reversed(fund):
    receipt = fund.contribute("500")
    original = db.session.get(Entry, receipt.entry_id)
    before = engine.usd_balance(engine.CASH)
    reversal = fund.reverse(original, on=date.today(), reason="typo")
    assert reversal.reverses_id == original.id
    assert engine.usd_balance(engine.CASH) == before - D("500")
    with pytest.raises(Conflict, match="already been reversed"):
        fund.reverse(original, on=date.today(), reason="again")
    with pytest.raises(DomainError, match="cannot itself be reversed"):
        fund.reverse(reversal, on=date.today(), reason="undo")
    assert verify().problem is None


def test_a_pledge_with_receipts_cannot_be_reversed_before_them(fund):
    donor = fund.donor()
    pledge = fund.pledge(donor, "100", date(2019, 1, 1))
    fund.receive(donor, "40", date(2019, 1, 2), pledge=pledge)
    with pytest.raises(DomainError, match="reverse them first"):
        fund.reverse(db.session.get(Entry, pledge.entry_id), on=date.today(), reason="x")


# --- cash, commitments, disbursements --------------------------------------------------------


def test_cash_never_goes_negative(fund):
    fund.contribute("100")
    with pytest.raises(DomainError, match="Not enough cash"):
        fund.pay("CAR-2017-0042", "100.01")
    support = fund.pay("car-2017-0042", "100")
    assert support.case_code == "CAR-2017-0042"
    assert engine.usd_balance(engine.CASH) == 0
    posting = db.session.scalar(select(Posting).where(Posting.case_code == "CAR-2017-0042").limit(1))
    assert posting is not None


def test_approving_beyond_available_to_commit_is_refused(fund):
    fund.contribute("113000")
    fund.project("100000")  # with 13% programme support cost: exactly what is available
    assert grants.fund_position()["available"] == 0
    with pytest.raises(DomainError, match="Not enough to commit"):
        fund.project("1")


def test_a_grant_with_beneficiaries_is_booked_under_its_country(fund):
    fund.contribute("100000")
    project = fund.project(
        "5000", title="Clinic", partner="MSF", case_codes=["CAR-2017-0042", "CAR-2017-0043"]
    )
    countries = db.session.scalars(
        select(Posting.country_code).where(Posting.project_id == project.id).distinct()
    ).all()
    assert (project.country_code, countries) == ("CAF", ["CAF"])


def test_a_disbursement_never_exceeds_the_undisbursed_amount_and_carries_the_support_cost(fund):
    fund.contribute("100000")
    project = fund.project("5000")
    tranche = fund.disburse(project, "3000")
    assert tranche.status == "posted" and tranche.psc_entry_id
    assert engine.usd_balance(engine.PROGRAMME_SUPPORT) == D("390.00")
    with pytest.raises(DomainError, match="undisbursed"):
        fund.disburse(project, "2000.01")
    fund.disburse(project, "2000")
    assert grants.undisbursed(project) == 0
    assert project.status == ProjectStatus.ONGOING
    assert verify().problem is None


def test_maker_checker_above_the_threshold(fund):
    fund.contribute("200000")
    project = fund.project("100000")
    tranche = fund.disburse(project, "20000")
    assert tranche.status == "pending" and tranche.entry_id is None
    with pytest.raises(NotAllowed):
        grants.approve_disbursement(actor=fund.maker, tranche=tranche)
    grants.approve_disbursement(actor=fund.checker, tranche=tranche)
    entry = db.session.get(Entry, tranche.entry_id)
    assert (entry.maker_id, entry.checker_id) == (fund.maker.id, fund.checker.id)
    with pytest.raises(Conflict):
        grants.approve_disbursement(actor=fund.checker, tranche=tranche)


def test_pending_requests_count_against_the_undisbursed_amount(fund):
    fund.contribute("200000")
    project = fund.project("30000")
    fund.disburse(project, "20000")  # pending
    with pytest.raises(DomainError, match="after pending"):
        fund.disburse(project, "10000.01")


def test_releasing_a_project_returns_its_commitment(fund):
    fund.contribute("100000")
    project = fund.project("50000")
    fund.disburse(project, "5000")
    available = grants.fund_position()["available"]
    grants.release_project(
        actor=fund.maker,
        key=key(),
        project=project,
        on=date.today(),
        reason="partner closed",
        status=ProjectStatus.CANCELLED,
    )
    assert grants.undisbursed(project) == 0
    assert grants.fund_position()["available"] == available + D("45000") * D("1.13")
    assert all(not c["difference"] for c in subledgers.subledger_checks())


# --- exchange rates --------------------------------------------------------------------------


def test_a_receipt_in_another_month_books_the_realised_exchange_difference(fund):
    fund.rate("EUR", date(2019, 1, 1), "0.8")
    fund.rate("EUR", date(2019, 3, 1), "0.9")
    donor = fund.donor("DEU")
    pledge = fund.pledge(donor, "1000", date(2019, 1, 5), currency="EUR")
    assert engine.usd_balance(engine.PLEDGES_RECEIVABLE) == D("1250.00")
    fund.receive(donor, "1000", date(2019, 3, 5), currency="EUR", pledge=pledge)
    assert engine.usd_balance(engine.PLEDGES_RECEIVABLE) == 0
    assert engine.usd_balance(engine.CASH) == D("1111.11")
    assert engine.usd_balance(engine.EXCHANGE_DIFFERENCES) == D("138.89")  # a loss, debit
    assert verify().problem is None


def test_a_used_rate_is_frozen_in_the_service_and_in_the_database(fund):
    rate = fund.rate("EUR", date(2019, 1, 1), "0.8")
    fund.rate("EUR", date(2019, 1, 1), "0.81")  # unused: may be corrected
    donor = fund.donor("DEU")
    fund.pledge(donor, "10", date(2019, 1, 5), currency="EUR")
    with pytest.raises(Conflict, match="frozen"):
        fund.rate("EUR", date(2019, 1, 1), "0.82")
    db.session.commit()
    with pytest.raises(DatabaseError, match="frozen"):
        db.session.execute(text("UPDATE ledger_fx_rate SET rate = 1 WHERE id = :id"), {"id": rate.id})
    db.session.rollback()


def test_a_receipt_rate_must_agree_with_the_months_rate(fund):
    fund.rate("EUR", date(2019, 1, 1), "0.8")
    donor = fund.donor("DEU")
    with pytest.raises(DomainError, match="operational rate"):
        fund.receive(donor, "10", date(2019, 1, 9), currency="EUR", rate="0.7")
    receipt = fund.receive(donor, "10", date(2019, 2, 9), currency="EUR", rate="0.75")
    assert receipt.rate == D("0.75")  # recorded as February's rate


# --- periods ---------------------------------------------------------------------------------


def test_a_closed_month_refuses_postings_in_the_service_and_in_the_database(fund):
    fund.contribute("100", on=date(2019, 1, 10))
    period = months.close_period(actor=fund.maker, month=date(2019, 1, 20))
    assert period.head_seq == 1
    with pytest.raises(DomainError, match="January 2019 is closed"):
        fund.contribute("5", on=date(2019, 1, 31))
    db.session.commit()
    with pytest.raises(DatabaseError, match="closed"):
        db.session.execute(
            text(
                "INSERT INTO ledger_entry (seq, entry_date, kind, memo, idempotency_key, request_hash,"
                " created_at, prev_hash, hash) VALUES (2, '2019-01-15', 'receipt', 'late', 'k', 'h',"
                " '2019-01-15 00:00:00', 'p', 'late')"
            )
        )
    db.session.rollback()
    with pytest.raises(Conflict):
        months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    with pytest.raises(DomainError, match="has ended"):
        months.close_period(actor=fund.maker, month=date.today())


def test_the_close_pack_holds_control_totals_reconciliations_rates_and_the_chain_head(fund):
    fund.rate("EUR", date(2019, 1, 1), "0.8")
    fund.contribute("100", on=date(2019, 1, 10))
    period = months.close_period(actor=fund.maker, month=date(2019, 1, 1))
    import json

    pack = json.loads(period.close_pack)
    assert pack["period"] == "2019-01"
    assert pack["chain_head"] == {"seq": 1, "hash": period.head_hash}
    assert {"account": "1000", "name": "Cash at bank", "debit": "100.00", "credit": "0.00"} in pack[
        "trial_balance"
    ]["rows"]
    assert pack["rates"][0]["currency"] == "EUR"


# --- withheld payments -----------------------------------------------------------------------


def test_reconciliation_totals_equal_the_ledger_with_ageing(fund):
    today = date(2020, 6, 30)
    w1 = fund.withhold("0399/15", "ZAF", "100000", date(2019, 1, 10))
    fund.withhold("0412/17", "ZAF", "25000", today - timedelta(days=30))
    fund.transfer(w1, "60000", date(2019, 6, 1), reference="T-1")
    with pytest.raises(DomainError, match="outstanding"):
        fund.transfer(w1, "40000.01", date(2019, 7, 1), reference="T-2")
    recon = withheld.reconciliation(today)
    assert recon.ties
    assert recon.totals["USD"] == {
        "withheld": D("125000"),
        "transferred": D("60000"),
        "outstanding": D("65000"),
    }
    assert recon.ledger["USD"]["outstanding"] == engine.usd_balance(engine.WITHHELD_RECEIVABLE)
    assert recon.ageing["0–90 days"] == D("25000") and recon.ageing["over 365 days"] == D("40000")
    assert recon.by_country[0]["country"] == "ZAF" and recon.by_country[0]["allegations"] == 2


# --- verify ----------------------------------------------------------------------------------


def _tamper(statement: str, table: str = "ledger_posting") -> None:
    """Drop the append-only trigger (as a hostile DBA could), edit a row, commit."""
    dialect = db.session.get_bind().dialect.name
    from vat.db import append_only_ddl, drop_append_only_ddl

    for ddl in drop_append_only_ddl(table, dialect):
        db.session.execute(text(ddl))
    db.session.execute(text(statement))
    for ddl in append_only_ddl(table, dialect):
        db.session.execute(text(ddl))
    db.session.commit()


def test_verify_names_a_tampered_posting(fund, runner):
    fund.contribute("100")
    fund.contribute("200", donor=fund.donor("SWE"))
    db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "ledger intact: 2 entries" in result.output
    second = db.session.scalar(select(Entry.id).where(Entry.seq == 2))
    _tamper(f"UPDATE ledger_posting SET usd_minor = usd_minor + 1 WHERE entry_id = {second}")
    db.session.expire_all()
    assert verify().problem == f"entry 2 (id {second}): its content was altered (hash mismatch)"
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "entry 2" in result.output


def test_verify_notices_a_removed_entry(fund):
    fund.contribute("100")
    fund.contribute("200", donor=fund.donor("SWE"))
    fund.contribute("300", donor=fund.donor("DNK"))
    db.session.commit()
    second = db.session.scalar(select(Entry.id).where(Entry.seq == 2))
    db.session.execute(text(f"DELETE FROM ledger_receipt WHERE entry_id = {second}"))
    _tamper(f"DELETE FROM ledger_posting WHERE entry_id = {second}")
    _tamper(f"DELETE FROM ledger_entry WHERE id = {second}", table="ledger_entry")
    db.session.expire_all()
    assert verify().problem == "entry 2 is missing: the sequence jumps to 3"


# --- direct support reaches the victims domain through a signal -------------------------------


def test_direct_support_announces_the_payment_inside_the_booking_transaction(fund):
    fund.contribute("1000")
    received = []

    def record(sender, **payment):
        received.append(payment)

    with victim_support.direct_support_paid.connected_to(record):
        support = fund.pay("CAR-2017-0042", "250", purpose="school fees", basis="TFC decision 2019/04")
    assert received == [
        {
            "actor": fund.maker,
            "case_code": "CAR-2017-0042",
            "amount": D("250"),
            "currency": "USD",
            "usd_minor": 25000,
            "paid_on": date(2019, 2, 1),
            "ledger_entry_id": support.entry_id,
            "route": "mission",
            "basis": "TFC decision 2019/04",
        }
    ]


def test_a_receiver_refusing_the_payment_refuses_the_booking(fund):
    fund.contribute("1000")

    def refuse(sender, **payment):
        raise DomainError("No victim has case code CAR-2099-0001.")

    with (
        victim_support.direct_support_paid.connected_to(refuse),
        pytest.raises(DomainError, match="No victim"),
    ):
        fund.pay("CAR-2099-0001", "250")


def test_verify_notices_a_used_rate_changed_behind_the_triggers(fund):
    rate = fund.rate("EUR", date(2019, 1, 1), "0.8")
    fund.pledge(fund.donor("DEU"), "10", date(2019, 1, 5), currency="EUR")
    db.session.commit()
    dialect = db.session.get_bind().dialect.name
    triggers = (
        ["ledger_fx_rate_frozen_update"]
        if dialect == "sqlite"
        else ["ledger_fx_rate_frozen ON ledger_fx_rate"]
    )
    for name in triggers:
        db.session.execute(text(f"DROP TRIGGER {name}"))
    db.session.execute(text("UPDATE ledger_fx_rate SET rate = 90000000 WHERE id = :id"), {"id": rate.id})
    db.session.commit()
    db.session.expire_all()
    assert verify().problem.startswith("the EUR rate of 2019-01 differs")


def test_the_signal_wires_to_the_victims_service_into_one_assistance_record(fund):
    """The wiring the lead adds in the factory: the ledger pays, the victim's record shows it."""
    from vat.victims import assistance, consents, identity
    from vat.victims.models import Assistance, FundingSource

    advocate = auth_user(Role.ADVOCATE, "CAF")
    victim = identity.register_victim(
        actor=advocate, country_code="CAF", sex="female", name="Amani Test", registered_on=date(2019, 1, 2)
    )
    consents.record_consent(
        actor=advocate,
        victim=victim,
        purpose="services",
        given_on=date(2019, 1, 2),
        method="written",
        version="v1",
    )
    fund.contribute("1000")

    def record(sender, **payment):
        assistance.record_trust_fund_support(**payment)

    with victim_support.direct_support_paid.connected_to(record):
        support = fund.pay(victim.case_code.lower(), "300", purpose="school fees")
    service = db.session.scalar(select(Assistance).where(Assistance.ledger_entry_id == support.entry_id))
    assert service.victim_id == victim.id and service.funding_source == FundingSource.DIRECT_TRUST_FUND
    assert service.cost == D("300")


def test_donors_are_unique_by_name_and_member_states_by_country(fund):
    from ledger.models import DonorKind

    first = contributions.create_donor(actor=fund.maker, name="Foundation A", kind=DonorKind.OTHER)
    second = contributions.create_donor(actor=fund.maker, name="  Foundation   B ", kind=DonorKind.OTHER)
    assert (first.name, second.name, second.country_code) == ("Foundation A", "Foundation B", None)
    with pytest.raises(Conflict, match="already a donor"):
        contributions.create_donor(actor=fund.maker, name="Foundation A", kind=DonorKind.OTHER)
    contributions.create_donor(actor=fund.maker, name="", kind=DonorKind.MEMBER_STATE, country_code="SWE")
    with pytest.raises(Conflict, match="already a donor"):
        contributions.create_donor(actor=fund.maker, name="", kind=DonorKind.MEMBER_STATE, country_code="SWE")


def test_subledger_checks_name_a_record_that_differs_from_its_control_account(fund):
    fund.contribute("100000")
    project = fund.project("50000")
    fund.disburse(project, "5000")
    assert {c["name"] for c in subledgers.subledger_checks()} >= {"grant commitments"}
    assert all(not c["difference"] for c in subledgers.subledger_checks())
    # A sub-ledger row changed behind the engine's back (the ledger's own rows are append-only):
    db.session.execute(
        text("UPDATE ledger_project SET approved_minor = approved_minor + 100 WHERE id = :id"),
        {"id": project.id},
    )
    differences = {
        (c["name"], c["currency"]): c["difference"] for c in subledgers.subledger_checks() if c["difference"]
    }
    assert differences == {("grant commitments", "USD"): D("1.00")}


def test_the_withholdings_check_reads_what_each_withholdings_transfers_brought_in(fund):
    kept = fund.withhold("0399/15", "ZAF", "1000", date(2019, 1, 10))
    reversed_later = fund.withhold("0412/17", "ZAF", "500", date(2019, 2, 10))
    fund.transfer(kept, "300", date(2019, 6, 1), reference="T-1")
    undone = fund.transfer(kept, "200", date(2019, 6, 2), reference="T-2")
    fund.reverse(db.session.get(Entry, undone.entry_id), date(2019, 6, 3), "sent twice")
    fund.reverse(db.session.get(Entry, reversed_later.entry_id), date(2019, 6, 4), "recorded twice")

    def withholdings() -> list[tuple[D, D]]:
        return [
            (c["subledger"], c["control"])
            for c in subledgers.subledger_checks()
            if c["name"] == "withholdings"
        ]

    assert withholdings() == [(D("700"), D("700"))]
    # The figure kept on the withholding, changed behind the app, is what the check reads:
    db.session.execute(
        text("UPDATE ledger_withholding SET transferred_minor = 0 WHERE id = :id"), {"id": kept.id}
    )
    assert withholdings() == [(D("1000"), D("700"))]
