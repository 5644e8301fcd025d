"""Each report's figures against the hand-made world of conftest.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from tests.reports.test_suppression import _extended, recoverable
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.fund import fund_statement
from vat.reports.scope import VictimFilters, cents, sees_rows
from vat.reports.support import aggregate_support, headline, support_rows
from vat.victims import support_summary
from vat.victims.models import Assistance, Victim


@pytest.fixture
def as_user(app, make_user):
    def build(role: Role, scope: str = "CAF") -> User:
        db.session.commit()  # end this context's read so make_user's own context can write
        made = make_user(role, scope)
        return db.session.get(User, made.id)

    return build


def _rows(user, filters=None):
    filters = filters or VictimFilters()
    return {r.case_code: r for r in db.session.execute(support_rows(user, filters)).all()}


def test_per_victim_rows_for_an_advocate_in_scope(app, world, as_user):
    with app.app_context():
        advocate = as_user(Role.ADVOCATE, "CAF")
        rows = _rows(advocate)
        assert sorted(rows) == [
            f"CAR-202{y}-000{n}" for y, n in [(0, 1), (0, 2), (0, 3), (1, 4), (1, 5), (1, 6), (1, 7)]
        ]
        first = rows["CAR-2020-0001"]
        assert (first.services, first.type_medical, first.type_psychosocial) == (2, 1, 1)
        assert (first.status_completed, first.status_referred, first.delivered) == (1, 1, 1)
        assert first.days_to_service == 10
        assert first.recent_contacts == 1
        assert first.supported == 1
        assert rows["CAR-2020-0002"].supported == 0 and rows["CAR-2020-0002"].status_declined == 1
        assert rows["CAR-2020-0003"].services == 0 and rows["CAR-2020-0003"].days_to_service is None
        direct = rows["CAR-2021-0004"]
        assert cents(direct.direct_minor) == Decimal("250.00")  # the reversed 100 nets out
        assert direct.supported == 1
        for code in ("CAR-2021-0005", "CAR-2021-0006"):
            assert rows[code].projects == 1
            assert cents(rows[code].project_minor) == Decimal("500.00")  # 1,000 disbursed / 2 listed
        assert cents(rows["CAR-2021-0006"].funded_minor) == Decimal("120.00")
        assert rows["CAR-2021-0007"].supported == 0


def test_headline_share_of_victims_with_nothing(app, world, as_user):
    with app.app_context():
        advocate = as_user(Role.ADVOCATE, "CAF")
        figures = headline(advocate, VictimFilters())
        assert (figures.victims, figures.supported, figures.not_supported) == (7, 4, 3)
        assert figures.not_supported_share == Decimal("42.9")
        assert figures.direct_usd == Decimal("250.00")
        assert figures.project_usd == Decimal("1000.00")
        assert figures.funded_usd == Decimal("120.00")

        senior = as_user(Role.SENIOR_ADVOCATE, "CAF,COD")
        everyone = headline(senior, VictimFilters())
        assert (everyone.victims, everyone.supported, everyone.not_supported) == (9, 5, 4)
        assert everyone.not_supported_share == Decimal("44.4")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (VictimFilters(year=2020), (3, 1, Decimal("66.7"))),
        (VictimFilters(sex="male"), (1, 1, Decimal("0.0"))),
        (VictimFilters(minor=True), (2, 2, Decimal("0.0"))),
        (VictimFilters(minor=False), (5, 2, Decimal("60.0"))),
        (VictimFilters(country_code="COD"), (0, 0, None)),  # outside the advocate's scope
        (VictimFilters(mission="MINUSCA", year=2021), (4, 3, Decimal("25.0"))),
    ],
)
def test_filters(app, world, as_user, filters, expected):
    with app.app_context():
        figures = headline(as_user(Role.ADVOCATE, "CAF"), filters)
        assert (figures.victims, figures.supported, figures.not_supported_share) == expected


def test_an_advocate_without_scope_sees_nothing(app, world, as_user):
    with app.app_context():
        assert headline(as_user(Role.ADVOCATE, ""), VictimFilters()).victims == 0


def test_aggregates_for_an_auditor_count_every_victim_and_suppress(app, world, as_user):
    with app.app_context():
        auditor = as_user(Role.AUDITOR, "")
        assert not sees_rows(auditor)
        result = aggregate_support(auditor, VictimFilters())
        # every victim, consent to aggregate reporting or not: CAF 7 (4 supported, 3 not), COD 2 (1, 1)
        table = result.by_place
        assert table.row_labels == ["CAF / MINUSCA", "COD / MONUSCO"]
        assert table.grand_total == 9
        assert all(v is None or v == 0 or v >= 5 for row in table.cells for v in row)
        assert table.cells == [[None, None], [None, None]]
        # the COD total (2) is small, so the CAF total (7) would give it away: both hidden, and so on
        assert (table.row_totals, table.column_totals) == ([None, None], [None, None])
        assert recoverable(_extended(table)) == []
        assert (result.headline.victims, result.headline.supported) == (9, None)
        assert result.headline.not_supported is None and result.headline.not_supported_share is None

        services = result.by_service
        assert all(v is None or v == 0 or v >= 5 for row in services.cells for v in row)


def test_aggregates_show_large_cells(app, world, as_user):
    with app.app_context():
        app.config["VAT_SUPPRESSION_THRESHOLD"] = 1
        result = aggregate_support(as_user(Role.FUND_MANAGER, ""), VictimFilters())
        assert result.by_place.cells == [[4, 3], [1, 1]]
        assert result.headline.not_supported_share == Decimal("44.4")


def test_direct_support_linked_assistance_is_not_counted_twice(app, world, as_user):
    with app.app_context():
        linked = db.session.scalars(select(Assistance).where(Assistance.ledger_entry_id.is_not(None))).all()
        rows = _rows(as_user(Role.ADVOCATE, "CAF"))
        assert cents(rows["CAR-2021-0004"].funded_minor) == Decimal("0.00")
        assert rows["CAR-2021-0004"].services == len(
            [a for a in linked if a.victim.case_code == "CAR-2021-0004"]
        )


def test_fund_statement_for_the_year(app, world):
    with app.app_context():
        statement = fund_statement(date(2021, 1, 1), date(2021, 12, 31), today=date(2021, 6, 1))
        assert statement.opening_balance == 0
        assert statement.income == [
            ("Voluntary contributions", "Donor B", Decimal("2000.00")),
            ("Voluntary contributions", "Norway", Decimal("5000.00")),
            ("Withheld payments", "NPL", Decimal("800.00")),
        ]
        assert statement.expenses == [
            ("Project grants", Decimal("1500.00")),
            ("Direct support to victims", Decimal("250.00")),
            ("Programme support cost", Decimal("130.00")),
        ]
        assert statement.total_income == Decimal("7800.00")
        assert statement.total_expenses == Decimal("1880.00")
        assert statement.closing_balance == Decimal("5920.00")
        assert (
            statement.closing_balance
            == statement.opening_balance + statement.total_income - statement.total_expenses
        )
        assert statement.closing_cash == Decimal("4120.00")
        assert statement.pledges == [
            ("Donor B", Decimal("0.00"), Decimal("2000.00"), Decimal("0.00")),
            ("Norway", Decimal("5000.00"), Decimal("3000.00"), Decimal("2000.00")),
        ]
        assert statement.withheld == [("NPL", Decimal("800.00"), Decimal("500.00"), Decimal("300.00"))]
        [project] = statement.projects
        assert (project["title"], project["approved"], project["disbursed"], project["remaining"]) == (
            "P1",
            Decimal("1500.00"),
            Decimal("1000.00"),
            Decimal("500.00"),
        )
        assert project["victims_paid"] == 2 and not project["behind_schedule"]
        assert statement.months == [
            ("2021-01", Decimal("5000.00"), Decimal("0.00")),
            ("2021-02", Decimal("2800.00"), Decimal("1500.00")),
            ("2021-03", Decimal("0.00"), Decimal("380.00")),
        ]


def test_fund_statement_for_march_has_the_right_opening_balance(app, world):
    with app.app_context():
        statement = fund_statement(date(2021, 3, 1), date(2021, 3, 31))
        assert statement.opening_balance == Decimal("6300.00")
        assert statement.opening_cash == Decimal("5000.00")
        assert statement.income == []
        assert statement.total_expenses == Decimal("380.00")
        assert statement.closing_balance == Decimal("5920.00")
        assert statement.closing_cash == Decimal("4120.00")


def test_a_page_of_rows_equals_the_same_slice_of_all_rows(app, world, as_user):
    with app.app_context():
        senior = as_user(Role.SENIOR_ADVOCATE, "CAF,COD")
        every = db.session.execute(support_rows(senior, VictimFilters())).all()
        page = db.session.execute(support_rows(senior, VictimFilters(), page=(3, 2))).all()
        assert [tuple(r) for r in page] == [tuple(r) for r in every[2:5]]
        assert len(every) == 9


def test_victims_without_the_consent_to_aggregate_reporting_are_counted(app, world, as_user):
    """Counting is not sharing (docs/reports-privacy.md): the consent governs rows that leave the
    advocates, not whether a victim is counted."""
    with app.app_context():
        auditor = as_user(Role.AUDITOR, "")
        before = aggregate_support(auditor, VictimFilters()).by_place.grand_total
        for n, status in enumerate(("completed", "declined", "in_progress")):
            victim = Victim(
                case_code=f"CAR-2021-09{n:02d}",
                country_code="CAF",
                mission="MINUSCA",
                sex="female",
                age_group="adult",
                registered_on=date(2021, 5, 1),
            )
            victim.services.append(
                Assistance(service_type="medical", status=status, referral_date=date(2021, 5, 2))
            )
            db.session.add(victim)
        db.session.flush()
        support_summary.rebuild()  # rows inserted outside the app's services
        after = aggregate_support(auditor, VictimFilters())
        assert (before, after.by_place.grand_total) == (9, 12)
        assert after.by_place.column_totals == [7, 5]  # two of the three received a service
        assert headline(as_user(Role.SENIOR_ADVOCATE, "CAF,COD"), VictimFilters()).victims == 12


def test_the_oios_figure_356_victims_133_with_nothing(app, as_user):
    """DOMAIN.md (OIOS §110): of 356 victims, 133 (37%) received no assistance at all."""
    with app.app_context():
        db.session.execute(
            insert(Victim),
            [
                {
                    "case_code": f"CAR-2016-{n:04d}",
                    "country_code": "CAF",
                    "sex": "female",
                    "registered_on": date(2016, 1, 1),
                }
                for n in range(356)
            ],
        )
        ids = db.session.scalars(select(Victim.id).order_by(Victim.id)).all()
        db.session.execute(
            insert(Assistance),
            [{"victim_id": i, "service_type": "medical", "status": "completed"} for i in ids[133:]]
            + [{"victim_id": i, "service_type": "legal", "status": "declined"} for i in ids[:50]],
        )
        support_summary.rebuild()  # rows inserted outside the app's services
        db.session.commit()
        figures = headline(as_user(Role.SENIOR_ADVOCATE, "CAF"), VictimFilters())
        assert (figures.victims, figures.supported, figures.not_supported) == (356, 223, 133)
        assert figures.not_supported_share == Decimal("37.4")
