"""The referral-pathways report (issue 18, item 2): days from referral to start per provider and
service type, and the gap map by place and service, within the viewer's reach, suppressed for
those who see only aggregates; its page, chart and export through the client."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from vat.auth.models import Role, User
from vat.db import db
from vat.reports.referrals import referral_report
from vat.reports.scope import VictimFilters
from vat.victims import service_tally
from vat.victims.models import Assistance, Provider, ProviderService, Victim

REFERRED = date(2021, 3, 1)
IRC_WAITS = [4, 6, 10, 20, 30]  # median 10


@pytest.fixture
def pathways(app, world):
    """On top of the hand-made world (whose CAR-2020-0001 psychosocial referral names no provider
    and whose CAR-2021-0007 shelter was not available, both in MINUSCA): IRC in Bambari (CAF)
    started five medical services after 4 to 30 days and had no place for five more; in COD a
    legal referral found no provider. Direct support the ledger paid (same day) is no referral."""
    with app.app_context():
        victims = {v.case_code: v for v in db.session.scalars(select(Victim))}
        irc = Provider(
            name="IRC",
            country_code="CAF",
            location="Bambari",
            availability="limited",
            availability_on=REFERRED,
            services=[ProviderService(service_type="medical")],
        )
        db.session.add(irc)
        db.session.flush()
        at_irc = {"victim": victims["CAR-2020-0003"], "service_type": "medical", "provider": "IRC"}
        for wait in IRC_WAITS:
            started = {"status": "in_progress", "start_date": REFERRED + timedelta(days=wait)}
            for outcome in (started, {"status": "not_available"}):
                db.session.add(Assistance(provider_id=irc.id, referral_date=REFERRED, **at_irc, **outcome))
        paid = {"referral_date": REFERRED, "start_date": REFERRED, "end_date": REFERRED, "ledger_entry_id": 9}
        db.session.add(
            Assistance(victim=victims["CAR-2021-0004"], service_type="material", status="completed", **paid)
        )
        db.session.add(
            Assistance(victim=victims["DRC-2021-0002"], service_type="legal", status="not_available")
        )
        service_tally.rebuild()  # rows inserted outside the app's services
        db.session.commit()


def _report(app, user_id, **filters):
    with app.app_context():
        return referral_report(db.session.get(User, user_id), VictimFilters(**filters))


def _times(report):
    return [(t.provider, t.in_directory, t.service_type, t.referrals, t.median_days) for t in report.times]


def test_an_advocate_sees_every_figure_of_their_scope(app, make_user, pathways):
    report = _report(app, make_user(Role.ADVOCATE, "CAF").id)
    assert _times(report) == [
        ("IRC", True, "medical", 5, Decimal("10.0")),
        ("not recorded", False, "education", 1, Decimal("19.0")),
        ("not recorded", False, "medical", 1, Decimal("10.0")),
    ]
    gaps = report.gaps
    assert gaps.row_labels == ["CAF · Bambari", "CAF · MINUSCA"]
    assert report.gap_service_types == ["medical", "psychosocial", "shelter"]
    assert gaps.cells == [[5, 0, 0], [0, 1, 1]]
    assert gaps.grand_total == 7


def test_another_scope_sees_only_its_own(app, make_user, pathways):
    report = _report(app, make_user(Role.ADVOCATE, "COD").id)
    assert _times(report) == [("not recorded", False, "material", 1, Decimal("0.0"))]
    assert report.gaps.row_labels == ["COD · MONUSCO"] and report.gaps.cells == [[1]]


def test_a_fund_manager_sees_every_country_with_small_figures_hidden(app, world, pathways):
    report = _report(app, world.fund_manager_id)
    assert _times(report)[0] == ("IRC", True, "medical", 5, Decimal("10.0"))
    assert all(t.referrals is None and t.median_days is None for t in report.times[1:])
    gaps = report.gaps
    assert gaps.row_labels == ["CAF · Bambari", "CAF · MINUSCA", "COD · MONUSCO"]
    assert gaps.column_labels == ["medical", "psychosocial", "legal", "shelter"]
    assert gaps.cells[0][0] == 5
    assert gaps.cells[1][1] is None and gaps.cells[1][3] is None and gaps.cells[2][2] is None
    visible = [v for row in gaps.cells for v in row if v not in (None, 0)]
    assert all(v >= 5 for v in visible)


def test_the_page_draws_the_gap_chart_and_the_tables(client, login, pathways):
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/referrals")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
    assert "CAF · Bambari" in html and "COD · MONUSCO" not in html
    assert 'id="referral-times"' in html and "(not in the directory)" in html


def test_the_export_holds_both_tables_and_is_audited(app, client, login, pathways):
    login(Role.ADVOCATE, "CAF")
    response = client.get("/reports/referrals/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["Gaps", "CAF · Bambari", "5", "0", "0", "5"] in rows
    assert ["Referral to start", "IRC", "yes", "medical", "5", "10.0"] in rows
    from vat.audit import AuditEvent

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).one()
    assert event.object_id == "referrals"


def test_too_narrow_filters_are_refused_to_a_fund_manager(app, client, world, pathways):
    from tests.conftest import TestUser, sign_in

    sign_in(app, client, TestUser(world.fund_manager_id, "manager", Role.FUND_MANAGER))
    assert client.get("/reports/referrals").status_code == 200
    narrow = client.get("/reports/referrals?country=COD")
    assert "Too few victims match these filters" in narrow.get_data(as_text=True)
    assert client.get("/reports/referrals/export.csv?country=COD").status_code == 422


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_roles_without_the_cases_are_refused(client, login, role):
    login(role, "")
    assert client.get("/reports/referrals").status_code == 403
    assert client.get("/reports/referrals/export.csv").status_code == 403
