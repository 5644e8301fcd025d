"""`flask ledger verify` names each kind of break. Entries are forged straight into the tables and
signed with the key as the engine would sign them (what a bug, or someone holding the key, could
write), so each check is reached behind an intact hash chain. Nothing here is committed: on
PostgreSQL the balance trigger, which runs at commit, never sees the forged entries."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from ledger import engine
from ledger.engine import EntryKind, Event, Line
from ledger.models import Account, Entry, Posting
from ledger.services import months
from ledger.verify import verify
from tests.ledger.conftest import key
from tests.ledger.test_engine import _tamper
from vat.db import db


def forge(
    lines: list[tuple[str, str, int, int]],
    *,
    kind: str = EntryKind.RECEIPT,
    on: date = date(2019, 2, 1),
    reverses_id: int | None = None,
    entry_id: int | None = None,
    first_running: int | None = None,
) -> int:
    """Append a signed entry of (account code, currency, amount minor, dollar cents) lines with
    their running balances (the first one replaced by `first_running` if given); its id."""
    codes = {a.id: a.code for a in db.session.scalars(select(Account))}
    ids = {code: account_id for account_id, code in codes.items()}
    balances: dict[int, int] = {}
    rows = []
    for code, currency, amount, usd in lines:
        account_id = ids[code]
        balances[account_id] = balances.get(account_id, engine.running_usd(account_id)) + usd
        rows.append(
            {
                "account_id": account_id,
                "currency": currency,
                "amount_minor": amount,
                "rate": D(1),
                "fx_rate_id": None,
                "usd_minor": usd,
                "running_usd_minor": balances[account_id],
                **dict.fromkeys(engine.DIMENSIONS),
            }
        )
    if first_running is not None:
        rows[0]["running_usd_minor"] = first_running
    seq, prev_hash = engine.head()
    entry: dict[str, Any] = {
        "seq": seq + 1,
        "entry_date": on,
        "kind": kind,
        "memo": "forged",
        "idempotency_key": key(),
        "request_hash": "0" * 64,
        "reverses_id": reverses_id,
        "maker_id": None,
        "checker_id": None,
        "prev_hash": prev_hash,
    }
    shape = SimpleNamespace(**entry, postings=[SimpleNamespace(**row) for row in rows])
    entry["hash"] = engine.entry_hash(shape, codes)
    if entry_id is not None:
        entry["id"] = entry_id
    table = Entry.__table__
    new_id = db.session.execute(insert(table).returning(table.c.id), entry).scalar_one()
    db.session.execute(insert(Posting.__table__), [row | {"entry_id": new_id} for row in rows])
    return new_id


def where(entry_id: int) -> str:
    seq = db.session.scalar(select(Entry.seq).where(Entry.id == entry_id))
    return f"entry {seq} (id {entry_id})"


@pytest.fixture
def funded(fund):
    fund.contribute("1000")  # cash US$1,000.00
    db.session.commit()
    assert verify().problem is None
    return fund


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([("1000", "USD", 100, 100), ("4000", "USD", -90, -90)], "does not balance in USD"),
        ([("1000", "EUR", 100, 50), ("4000", "EUR", -90, -50)], "does not balance in EUR"),
        ([("1000", "USD", 100, 100)], "fewer than two postings"),
        (
            [("1000", "USD", 0, 0), ("4000", "USD", 0, 0)],
            "a zero line outside the exchange and rounding accounts",
        ),
        (
            [("1000", "USD", 100, 90), ("4000", "USD", -100, -90)],
            "a US-dollar line whose dollar value differs from its amount",
        ),
        ([("5100", "USD", 100001, 100001), ("1000", "USD", -100001, -100001)], "cash goes negative"),
    ],
)
def test_verify_names_a_signed_entry_that_breaks_a_rule(funded, lines, problem):
    forged = forge(lines)
    assert verify().problem == f"{where(forged)}: {problem}"


def test_verify_checks_every_running_balance(funded):
    forged = forge([("1000", "USD", 500, 500), ("4000", "USD", -500, -500)], first_running=12345)
    assert verify().problem == f"{where(forged)}: the running balance of account 1000 is wrong"


def test_verify_notices_an_edited_link(funded):
    funded.contribute("5", donor=funded.donor("SWE"))
    db.session.commit()
    second = db.session.scalar(select(Entry.id).where(Entry.seq == 2))
    _tamper(f"UPDATE ledger_entry SET prev_hash = '{'f' * 64}' WHERE id = {second}", table="ledger_entry")
    db.session.expire_all()
    assert verify().problem == f"{where(second)}: it does not link to the entry before it"


def test_verify_notices_entries_numbered_out_of_chain_order(funded):
    forge([("1000", "USD", 100, 100), ("4000", "USD", -100, -100)], entry_id=1000)
    lower = forge([("1000", "USD", 100, 100), ("4000", "USD", -100, -100)], entry_id=500)
    assert (
        verify().problem
        == f"{where(lower)}: numbered out of chain order (its id is below the entry before it)"
    )


def _receipt(fund) -> Entry:
    return db.session.get(Entry, fund.contribute("300", donor=fund.donor("DNK")).entry_id)


def test_verify_notices_a_reversal_that_is_not_the_mirror_image(funded):
    original = _receipt(funded)
    forged = forge(
        [("1000", "USD", -20000, -20000), ("4000", "USD", 20000, 20000)],
        kind=EntryKind.REVERSAL,
        reverses_id=original.id,
    )
    assert verify().problem == f"{where(forged)}: is not the mirror image of the entry it reverses"


def test_verify_notices_a_reversal_of_a_reversal(funded):
    original = _receipt(funded)
    mirror = [("1000", "USD", -30000, -30000), ("4000", "USD", 30000, 30000)]
    first = forge(mirror, kind=EntryKind.REVERSAL, reverses_id=original.id)
    assert verify().problem is None
    again = [(code, currency, -amount, -usd) for code, currency, amount, usd in mirror]
    second = forge(again, kind=EntryKind.REVERSAL, reverses_id=first)
    assert verify().problem == (
        f"{where(second)}: reverses an entry that is not an earlier, non-reversal entry"
    )


def test_verify_notices_an_entry_booked_into_a_closed_month(funded):
    months.close_period(actor=funded.maker, month=date(2019, 1, 1))
    dialect = db.session.get_bind().dialect.name
    db.session.execute(
        text(
            "DROP TRIGGER ledger_entry_open_period" + (" ON ledger_entry" if dialect == "postgresql" else "")
        )
    )
    late = forge([("1000", "USD", 100, 100), ("4000", "USD", -100, -100)], on=date(2019, 1, 31))
    seq = db.session.scalar(select(Entry.seq).where(Entry.id == late))
    assert verify().problem == f"entry {seq}: dated in 2019-01, booked after the month was closed"


def test_verify_accepts_the_reversal_of_an_entry_thousands_of_entries_back(funded):
    """The walk used to remember only the last 5,000 to 10,000 entries for reversals to look at."""
    original = _receipt(funded)
    cases = [f"CAR-{n:05d}" for n in range(10_050)]
    for start in range(0, len(cases), 2_000):
        engine.post_many(
            actor=funded.maker,
            events=[
                Event(
                    key=key(),
                    payload={},
                    kind=EntryKind.VICTIM_SUPPORT,
                    entry_date=date(2019, 2, 1),
                    memo="support",
                    lines=[
                        Line(engine.VICTIM_SUPPORT, "USD", D("0.01"), dims={"case_code": case}),
                        Line(engine.CASH, "USD", D("-0.01"), dims={"case_code": case}),
                    ],
                )
                for case in cases[start : start + 2_000]
            ],
        )
    funded.reverse(original, on=date(2019, 3, 1), reason="typo")
    report = verify()
    assert report.problem is None and report.entries == 10_053


def test_the_hash_signs_the_form_existing_chains_were_signed_in(ctx):
    """Changing the canonical form would break every chain already written."""
    posting = SimpleNamespace(
        account_id=7,
        currency="EUR",
        amount_minor=-1050,
        rate=D("0.91234567"),
        usd_minor=-1151,
        running_usd_minor=-1151,
        donor_id=3,
        pledge_id=None,
        withholding_id=None,
        project_id=None,
        country_code="DEU",
        allegation_ref=None,
        case_code="CAR-1",
    )
    entry = SimpleNamespace(
        prev_hash="a" * 64,
        seq=12,
        entry_date=date(2019, 1, 31),
        kind="receipt",
        memo="Don — 捐款",
        idempotency_key="k1",
        request_hash="b" * 64,
        reverses_id=None,
        maker_id=4,
        checker_id=None,
        postings=[posting],
    )
    message = (
        f'["{"a" * 64}",12,"2019-01-31","receipt","Don — 捐款","k1","{"b" * 64}",null,4,null,'
        '[["4000","EUR",-1050,91234567,-1151,-1151,3,null,null,null,"DEU",null,"CAR-1"]]]'
    )
    expected = hmac.new(ctx.config["VAT_MAC_KEY"].encode(), message.encode(), hashlib.sha256).hexdigest()
    assert engine.entry_hash(entry, {7: "4000"}) == expected
