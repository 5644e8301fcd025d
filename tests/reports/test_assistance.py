"""The assistance report: counts by grouping and status, and medians from one grouped query."""

from __future__ import annotations

import io
import statistics
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.reports.test_suppression import _extended, recoverable
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.assistance import assistance_report
from vat.reports.scope import VictimFilters
from vat.victims import service_tally
from vat.victims.models import Assistance, ServiceType, Victim


@pytest.fixture
def more_medical(app, world):
    """Two more medical services for CAR-2020-0003 (who did not consent to aggregate reporting,
    and is counted all the same): referral→start 4 and 30 days, start→completion 5 and 30 days."""
    with app.app_context():
        victim = db.session.scalar(select(Victim).where(Victim.case_code == "CAR-2020-0003"))
        for start, end in ((date(2020, 6, 5), date(2020, 6, 10)), (date(2020, 7, 1), date(2020, 7, 31))):
            db.session.add(
                Assistance(
                    victim=victim,
                    service_type="medical",
                    status="completed",
                    referral_date=date(2020, 6, 1),
                    start_date=start,
                    end_date=end,
                )
            )
        service_tally.rebuild()  # rows inserted outside the app's services
        db.session.commit()


def _user(app, make_user, role, scope="CAF"):
    made = make_user(role, scope)
    return made.id


def test_by_type_with_medians_for_an_advocate(app, make_user, more_medical):
    uid = _user(app, make_user, Role.ADVOCATE)
    with app.app_context():
        report = assistance_report(db.session.get(User, uid), VictimFilters(), by="type")
        table = report.table
        assert table.row_labels == ["medical", "psychosocial", "legal", "shelter", "education"]
        assert table.row_totals == [3, 1, 1, 1, 1]
        completed = table.column_labels.index("completed")
        assert table.cells[0][completed] == 3
        assert not table.suppressed
        # medical: referral→start 4, 10, 30 → 10; start→completion 5, 21, 30 → 21
        assert report.referral_to_start[0] == Decimal("10.0")
        assert report.start_to_end[0] == Decimal("21.0")
        assert report.referral_to_start[4] == Decimal("19.0") and report.start_to_end[4] is None
        # overall: 4, 10, 19, 30 → 14.5 (even count: the mean of the middle two)
        assert report.overall_referral_to_start == Decimal("14.5")
        assert report.overall_start_to_end == Decimal("21.0")


def test_by_year_and_filters(app, make_user, more_medical):
    uid = _user(app, make_user, Role.ADVOCATE)
    with app.app_context():
        user = db.session.get(User, uid)
        by_year = assistance_report(user, VictimFilters(), by="year")
        assert dict(zip(by_year.table.row_labels, by_year.table.row_totals, strict=True)) == {
            "2020": 5,
            "2021": 2,
        }
        minors = assistance_report(user, VictimFilters(minor=True), by="provider")
        assert minors.table.row_labels == ["not recorded"] and minors.table.grand_total == 2


def test_aggregate_for_an_auditor_suppresses_counts_and_small_medians(app, make_user, more_medical):
    uid = _user(app, make_user, Role.AUDITOR, "")
    with app.app_context():
        report = assistance_report(db.session.get(User, uid), VictimFilters(), by="type")
        table = report.table
        assert "medical" in table.row_labels
        assert table.grand_total == 8  # every service in reach, consent to aggregate reporting or not
        assert all(v is None or v == 0 or v >= 5 for row in table.cells for v in row)
        assert recoverable(_extended(table)) == []
        assert report.overall_referral_to_start == Decimal("10.0")  # 0, 4, 10, 19, 30: five values
        assert report.overall_start_to_end is None  # 0, 5, 21, 30: fewer than the threshold


def test_assistance_page_and_export(app, client, login, more_medical):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/assistance?by=type").get_data(as_text=True)
    assert 'id="median-to-start">14.5<' in page
    assert 'aria-labelledby="assistance-chart-title assistance-chart-desc"' in page
    assert client.get("/reports/assistance?by=nonsense").status_code == 200
    response = client.get("/reports/assistance/export.xlsx?by=year")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "year of referral" and rows[0][-2:] == (
        "median days referral to start",
        "median days start to completion",
    )
    assert rows[1][0] == "2020" and rows[-1][0] == "total"
    csv_text = client.get("/reports/assistance/export.csv?by=provider").get_data(as_text=True)
    assert "not recorded" in csv_text


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_assistance_is_refused_to_the_admin(client, login, role):
    login(role, "")
    assert client.get("/reports/assistance").status_code == 403
    assert client.get("/reports/assistance/export.csv").status_code == 403


@pytest.mark.parametrize("by", ["type", "provider", "year", "country"])
def test_every_median_is_the_median_of_the_services_waits(app, make_user, more_medical, by):
    """The one grouped query's medians, per group and overall, against the waits of the same
    services read one by one and sorted."""
    uid = _user(app, make_user, Role.ADVOCATE)
    with app.app_context():
        report = assistance_report(db.session.get(User, uid), VictimFilters(), by=by)
        services = db.session.scalars(
            select(Assistance).join(Victim).where(Victim.country_code == "CAF")
        ).all()

        def key(service: Assistance) -> str:
            return {
                "type": service.service_type,
                "provider": service.provider or "not recorded",
                "year": str(service.referral_date.year) if service.referral_date else "no referral date",
                "country": service.victim.country_code,
            }[by]

        def expected(waits: list[int]) -> Decimal | None:
            if not waits:
                return None
            return Decimal(str(statistics.median(waits))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

        def waits(later: str, earlier: str, group: str | None) -> list[int]:
            return [
                (getattr(s, later) - getattr(s, earlier)).days
                for s in services
                if getattr(s, later) and getattr(s, earlier) and group in (None, key(s))
            ]

        groups = sorted({key(s) for s in services})
        assert len(report.referral_to_start) == len(groups)
        labels = report.table.row_labels
        for group in groups:
            row = labels.index(ServiceType(group).label if by == "type" else group)
            assert report.referral_to_start[row] == expected(waits("start_date", "referral_date", group))
            assert report.start_to_end[row] == expected(waits("end_date", "start_date", group))
        assert report.overall_referral_to_start == expected(waits("start_date", "referral_date", None))
        assert report.overall_start_to_end == expected(waits("end_date", "start_date", None))
