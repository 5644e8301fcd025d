"""The claims list (ordered and paged in SQL) and the dashboard (grouped in SQL) against a
hand-built set of claims whose answers are worked out by hand, as at 30 June 2021."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.claims.conftest import EUR_PAID, LUMP_SUM_UNPAID, MONTHLY_USD, S, build_claim
from vat.auth.models import Role, User
from vat.claims import listing
from vat.db import db
from vat.victims.models import Victim

ON = date(2021, 6, 30)
D = date


def _victim(code: str, country: str, last_update_on: date | None) -> Victim:
    victim = Victim(
        case_code=code,
        country_code=country,
        sex="female",
        registered_on=D(2017, 1, 1),
        last_update_on=last_update_on,
    )
    db.session.add(victim)
    return victim


@pytest.fixture
def claims(ctx, make_user):
    """Six claims in CAF, one in COD (out of the advocate's scope). Waiting on the member state:
    B since 1 Aug 2020 (333 days: a letter sent the day a reply came, recorded after it), A since
    15 Jan (166 days), F since 31 May (exactly 30 days); C had its reply; E has no letter."""
    advocate = db.session.get(User, make_user(Role.ADVOCATE, "CAF").id)
    never, june, january = (
        _victim("CAR-T-1", "CAF", None),
        _victim("CAR-T-2", "CAF", D(2021, 6, 1)),
        _victim("CAR-T-3", "CAF", D(2021, 1, 1)),
    )
    made = {
        "A": build_claim(
            never, "NPL", S.REFERRED, D(2021, 1, 10), D(2021, 1, 15), letters=[("sent", D(2021, 1, 15))]
        ),
        "B": build_claim(june, "NPL", S.SUPPORT_ORDERED, D(2020, 6, 1), D(2021, 1, 31), **MONTHLY_USD),
        "C": build_claim(january, "BGD", S.PAYING, D(2019, 1, 1), D(2021, 2, 1), **EUR_PAID),
        "D": build_claim(never, "BGD", S.CLOSED, D(2018, 1, 1), D(2018, 6, 1), **LUMP_SUM_UNPAID),
        "E": build_claim(june, "NPL", S.RECORDED, ON - timedelta(days=90)),  # exactly 90 days old
        "F": build_claim(
            january, "BGD", S.REFERRED, D(2021, 3, 1), D(2021, 5, 31), letters=[("sent", D(2021, 5, 31))]
        ),
    }
    outside = _victim("COD-T-1", "COD", None)
    made["G"] = build_claim(outside, "NPL", S.REFERRED, D(2015, 1, 1), letters=[("sent", D(2015, 1, 1))])
    return advocate, made


def _codes(made, page) -> list[str]:
    names = {claim.id: name for name, claim in made.items()}
    return [names[row.claim.id] for row in page.items]


def test_the_list_is_ordered_and_paged_in_sql(claims):
    advocate, made = claims
    first = listing.claims_page(advocate, listing.ClaimFilters(), per_page=4, on=ON)
    second = listing.claims_page(advocate, listing.ClaimFilters(), page=2, per_page=4, on=ON)
    # open first, the longest waiting first, then the oldest opened; the closed claim last
    assert _codes(made, first) + _codes(made, second) == ["B", "A", "F", "C", "E", "D"]
    assert (first.total, first.pages, first.more, second.more) == (6, 2, True, False)
    past_the_end = listing.claims_page(advocate, listing.ClaimFilters(), page=9, per_page=4, on=ON)
    assert (past_the_end.items, past_the_end.total, past_the_end.more) == ([], 6, False)
    bgd = listing.claims_page(advocate, listing.ClaimFilters(member_state="BGD"), on=ON)
    assert (_codes(made, bgd), bgd.total) == (["F", "C", "D"], 3)
    assert _codes(made, listing.claims_page(advocate, listing.ClaimFilters(step="referred"), on=ON)) == [
        "A",
        "F",
    ]
    assert listing.claims_page(advocate, listing.ClaimFilters(country_code="COD"), on=ON).total == 0


def test_each_row_carries_its_wait_flags_and_arrears(claims):
    advocate, made = claims
    rows = {row.claim.id: row for row in listing.claims_page(advocate, listing.ClaimFilters(), on=ON).items}
    b, a, f, d, e = (rows[made[name].id] for name in "BAFDE")
    assert [(r.waiting.days, r.waiting.flag) for r in (b, a, f)] == [(333, 180), (166, 90), (30, 30)]
    assert d.waiting is None and e.waiting is None
    assert [(x.currency, x.arrears) for x in b.arrears] == [("USD", Decimal("350.00"))]
    assert [(x.currency, x.arrears) for x in d.arrears] == [("USD", Decimal("500.00"))]
    assert rows[made["C"].id].arrears == []
    assert (a.update_owed, a.no_update, e.update_owed, e.no_update, e.age_days) == (
        True,
        True,
        False,
        False,
        90,
    )


def test_the_dashboard_figures(claims):
    advocate, _ = claims
    board = listing.dashboard(advocate, on=ON)
    assert board.total == 6
    assert board.by_step == [
        (S.RECORDED, 1),
        (S.REFERRED, 2),
        (S.SUPPORT_ORDERED, 1),
        (S.PAYING, 1),
        (S.CLOSED, 1),
    ]
    assert board.by_member_state == [("NPL", 3, 333), ("BGD", 2, 30)]  # open claims only
    assert board.by_age == [("up to 90 days", 1), ("91–180 days", 2), ("1–2 years", 1), ("over 2 years", 1)]
    assert board.waiting_flags == {180: 1, 90: 1, 30: 1}
    assert board.update_owed == 4  # A, C, F, and the closed D: victims told nothing since the step
    assert board.no_update == 3  # A (never told), C and F (told on 1 January); D is closed
    assert [(b.currency, b.due, b.received, b.arrears) for b in board.arrears] == [
        ("EUR", Decimal("2200.00"), Decimal("2200.00"), Decimal("0.00")),
        ("USD", Decimal("1100.00"), Decimal("250.00"), Decimal("850.00")),
    ]


def test_an_empty_scope_has_an_empty_list_and_dashboard(ctx, make_user):
    nobody = db.session.get(User, make_user(Role.ADVOCATE, "HTI").id)
    page = listing.claims_page(nobody, listing.ClaimFilters(), on=ON)
    assert (page.items, page.total, page.pages) == ([], 0, 1)
    board = listing.dashboard(nobody, on=ON)
    assert (board.total, board.by_step, board.by_member_state, board.arrears) == (0, [], [], [])
    assert board.waiting_flags == {180: 0, 90: 0, 30: 0}


def test_totals_and_dashboard_are_exact_on_every_call(claims):
    advocate, made = claims

    def look() -> tuple[list[str], int, int]:
        page = listing.claims_page(advocate, listing.ClaimFilters(), on=ON)
        return _codes(made, page), page.total, listing.dashboard(advocate, on=ON).total

    assert look() == (["B", "A", "F", "C", "E", "D"], 6, 6)
    made["H"] = build_claim(made["E"].victim, "NPL", S.RECORDED, D(2021, 6, 29))
    assert look() == (["B", "A", "F", "C", "E", "H", "D"], 7, 7)
