"""Needs by type and the quality of the help: exact figures for advocates, suppressed ones for
those outside their scope, the page, its chart and its exports, the dashboards."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.vat.conftest import assist, contact, register
from vat import audit
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.needs import needs_table, quality_export_rows, quality_report, unmet_by_type
from vat.reports.scope import VictimFilters
from vat.reports.summary import summary
from vat.reports.suppression import suppress, suppress_sharing_row_totals
from vat.victims import needs


@pytest.fixture
def feedback_world(app: Flask, make_user: Callable[..., Any], today: date) -> None:
    """Six CAF victims and one COD victim:
    - needs: medical unmet for 4 CAF victims (one also legal unmet), shelter met for 1, medical
      unmet for the COD victim;
    - feedback on services of Clinique A (medical): 3 satisfied, 1 not satisfied with a complaint;
      Clinique B (legal): 1 unsure with a complaint; on case updates: 2 satisfied;
    - COD: 1 not satisfied (Clinique A), outside a CAF advocate's reach."""
    owner = make_user(Role.ADVOCATE, "CAF, COD")
    ago = today - timedelta(days=20)
    with app.test_request_context():
        actor = db.session.get(User, owner.id)
        caf = [register(actor) for _ in range(6)]
        cod = register(actor, country_code="COD", mission="MONUSCO")
        for victim in caf[:4]:
            needs.assess_need(
                actor=actor, victim=victim, need_type="medical", status="unmet", assessed_on=ago
            )
        needs.assess_need(actor=actor, victim=caf[0], need_type="legal", status="unmet", reason="no_funds")
        needs.assess_need(actor=actor, victim=caf[4], need_type="shelter", status="met")
        needs.assess_need(actor=actor, victim=cod, need_type="medical", status="unmet")

        def service(victim: Any, kind: str, provider: str) -> Any:
            return assist(actor, victim, service_type=kind, provider=provider)

        for victim, said, complained in [
            (caf[0], "satisfied", False),
            (caf[1], "satisfied", False),
            (caf[2], "satisfied", False),
            (caf[3], "not_satisfied", True),
        ]:
            needs.record_feedback(
                actor=actor,
                victim=victim,
                service=service(victim, "medical", "Clinique A"),
                satisfaction=said,
                complaint=complained,
            )
        needs.record_feedback(
            actor=actor,
            victim=caf[5],
            service=service(caf[5], "legal", "Clinique B"),
            satisfaction="unsure",
            complaint=True,
        )
        for victim in caf[:2]:
            update = contact(actor, victim, today)
            needs.record_feedback(actor=actor, victim=victim, communication=update, satisfaction="satisfied")
        needs.record_feedback(
            actor=actor,
            victim=cod,
            service=service(cod, "medical", "Clinique A"),
            satisfaction="not_satisfied",
        )
        db.session.commit()


@pytest.fixture
def acting_as(
    app: Flask, make_user: Callable[..., Any]
) -> Callable[[Role, str], AbstractContextManager[User]]:
    """A request context in which a new user of `role` and `scope` is loaded, for the reports
    that read as that user."""

    @contextmanager
    def acting(role: Role, scope: str) -> Iterator[User]:
        made = make_user(role, scope)
        with app.test_request_context():
            yield db.session.get_one(User, made.id)

    return acting


def test_quality_per_type_and_provider_for_an_advocate(
    acting_as: Callable[..., Any], feedback_world: None
) -> None:
    with acting_as(Role.ADVOCATE, "CAF") as advocate:
        by_type = quality_report(advocate, VictimFilters(), by="type")
        assert by_type.satisfaction.row_labels == ["medical", "legal", "case updates"]
        assert by_type.satisfaction.cells == [[3, 1, 0], [0, 0, 1], [2, 0, 0]]
        assert by_type.complaints.cells == [[1, 3], [1, 0], [0, 2]]
        assert by_type.satisfied_share == [Decimal("75.0"), Decimal("0.0"), Decimal("100.0")]
        assert by_type.complaint_share == [Decimal("25.0"), Decimal("100.0"), Decimal("0.0")]
        by_provider = quality_report(advocate, VictimFilters(), by="provider")
        assert by_provider.satisfaction.row_labels == ["Clinique A", "Clinique B"]
        assert by_provider.satisfaction.row_totals == [4, 1]
        rows = quality_export_rows(by_provider)
        assert rows[0] == ["Clinique A", 3, 1, 0, 4, Decimal("75.0"), 1, 3, Decimal("25.0")]
        assert rows[-1] == ["total", 3, 1, 1, 5, Decimal("60.0"), 2, 3, Decimal("40.0")]
        with pytest.raises(ValueError, match="unknown grouping"):
            quality_report(advocate, VictimFilters(), by="mission")


def test_needs_by_type_and_the_dashboard_figure(
    acting_as: Callable[..., Any], make_user: Callable[..., Any], feedback_world: None
) -> None:
    made_wider = make_user(Role.ADVOCATE, "CAF, COD")
    with acting_as(Role.ADVOCATE, "CAF") as advocate:
        table = needs_table(advocate, VictimFilters())
        unmet = dict(unmet_by_type(table))
        assert unmet["medical"] == 4 and unmet["legal"] == 1 and unmet["shelter"] == 0
        figures = summary(advocate, reads_ledger=False)
        assert figures.unmet_needs == 5
        assert figures.unmet_by_type == (("medical", 4), ("legal", 1))
        wider = db.session.get_one(User, made_wider.id)
        assert dict(unmet_by_type(needs_table(wider, VictimFilters())))["medical"] == 5


def test_aggregate_viewers_see_small_counts_suppressed(
    acting_as: Callable[..., Any], feedback_world: None
) -> None:
    with acting_as(Role.AUDITOR, "") as auditor:
        report = quality_report(auditor, VictimFilters(), by="provider")
        s, c = report.satisfaction, report.complaints
        assert all(v is None or v == 0 or v >= 5 for row in s.cells + c.cells for v in row)
        assert [t is None for t in s.row_totals] == [t is None for t in c.row_totals]
        table = needs_table(auditor, VictimFilters())
        assert all(v is None or v == 0 or v >= 5 for row in table.cells for v in row)


def test_two_tables_of_the_same_feedback_hide_the_same_row_totals() -> None:
    """Satisfaction and complaints split the same feedback: a row total one table hides, the
    other must hide too, or the hidden cells could be worked out from it."""
    generator = random.Random(18)
    forced_somewhere = False
    for _ in range(300):
        rows = generator.randint(1, 4)
        totals = [generator.choice([0, 1, 2, 3, 6, 9, 14]) for _ in range(rows)]
        satisfaction, complaints = [], []
        for total in totals:
            yes = generator.randint(0, total)
            unsure = generator.randint(0, total - yes)
            satisfaction.append([yes, total - yes - unsure, unsure])
            complained = generator.randint(0, total)
            complaints.append([complained, total - complained])
        labels = [f"row {i}" for i in range(rows)]
        first, second = suppress_sharing_row_totals(
            labels, (["s", "n", "u"], satisfaction), (["c", "none"], complaints), threshold=5
        )
        assert [t is None for t in first.row_totals] == [t is None for t in second.row_totals]
        assert (first.grand_total is None) == (second.grand_total is None)
        alone = suppress(labels, ["c", "none"], complaints, threshold=5)
        forced_somewhere |= alone.row_totals != second.row_totals
    assert forced_somewhere  # the rule changed something in some table, so it was exercised


def test_the_quality_page_chart_and_exports(
    app: Flask, client: FlaskClient, login: Callable[..., Any], feedback_world: None
) -> None:
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/quality").get_data(as_text=True)
    assert 'id="quality-table"' in page and "<svg" in page and "case updates" in page
    assert "75.0%" in page
    by_provider = client.get("/reports/quality?by=provider&country=CAF").get_data(as_text=True)
    assert "<bdi>Clinique A</bdi>" in by_provider
    csv = client.get("/reports/quality/export.csv?by=provider").get_data(as_text=True)
    assert csv.splitlines()[0].lstrip("\ufeff").startswith("provider,satisfied,not satisfied,unsure,feedback")
    assert "Clinique B" in csv
    workbook = load_workbook(io.BytesIO(client.get("/reports/quality/export.xlsx").data))
    assert next(workbook["Quality"].iter_rows(values_only=True))[0] == "service type"
    assert client.get("/reports/quality/export.pdf").status_code == 404
    with app.app_context():
        exports = db.session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.action == "report.export")
        ).all()
        assert [e.object_id for e in exports] == ["quality", "quality"]
    assert 'id="needs-by-type"' in client.get("/reports/victims").get_data(as_text=True)
    assert 'id="summary-unmet-needs"' in client.get("/reports/").get_data(as_text=True)


def test_the_quality_page_for_aggregate_roles_and_refusals(
    client: FlaskClient, login: Callable[..., Any], feedback_world: None
) -> None:
    login(Role.FUND_MANAGER, "")
    page = client.get("/reports/quality").get_data(as_text=True)
    assert "suppressed" in page and "CAR-" not in page
    assert "suppressed" in client.get("/reports/quality/export.csv").get_data(as_text=True)
    aggregate = client.get("/reports/victims").get_data(as_text=True)
    assert 'id="needs-by-type"' in aggregate


def test_the_quality_page_is_refused_to_an_admin(client: FlaskClient, login: Callable[..., Any]) -> None:
    login(Role.ADMIN, "")
    assert client.get("/reports/quality").status_code == 403
    assert client.get("/reports/quality/export.csv").status_code == 403


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Qualité de l’aide", "points sur le dossier", "satisfait(e)"]),
        ("zh", ["援助质量", "案件进展通报", "满意"]),
    ],
)
def test_the_new_pages_are_translated(
    client: FlaskClient, login: Callable[..., Any], feedback_world: None, language: str, words: list[str]
) -> None:
    login(Role.ADVOCATE, "CAF")
    headers = {"Accept-Language": language}
    page = client.get("/reports/quality", headers=headers).get_data(as_text=True)
    assert all(word in page for word in words), language
    attention = client.get("/vat/attention?all=1", headers=headers).get_data(as_text=True)
    assert {"fr": "Besoins non satisfaits ou en partie satisfaits", "zh": "未满足或部分满足的需求"}[
        language
    ] in attention


def test_needs_by_type_equal_the_needs_counted_one_by_one_for_every_viewer_and_filter(
    app: Flask, acting_as: Callable[..., Any], feedback_world: None
) -> None:
    """Issue 14: a fund manager's or an auditor's unfiltered table is read off the needs alone (no
    join to the victims); every viewer's, filtered or not, equals the needs counted here one by
    one, after a need changed and one added."""
    from vat.auth.policy import in_scope
    from vat.victims.models import Need, NeedStatus, ServiceType, Victim

    app.config["VAT_SUPPRESSION_THRESHOLD"] = 1  # every count shown, so every count is compared
    filters = [VictimFilters(), VictimFilters(country_code="cod"), VictimFilters(sex="male")]
    filters += [VictimFilters(minor=False), VictimFilters(year=date.today().year)]

    def counted(user: User, chosen: VictimFilters) -> list[list[int]]:
        grid = {(t.value, s.value): 0 for t in ServiceType for s in NeedStatus}
        for need, victim in db.session.execute(select(Need, Victim).join(Victim)).all():
            if not in_scope(user, victim.country_code, victim.mission):
                continue
            if chosen.country_code and victim.country_code != chosen.country_code.upper():
                continue
            if chosen.sex and victim.sex != chosen.sex:
                continue
            if chosen.minor is not None and (victim.age_group == "minor") != chosen.minor:
                continue
            if chosen.year and victim.registered_on.year != chosen.year:
                continue
            grid[(need.need_type, need.status)] += 1
        return [[grid[(t.value, s.value)] for s in NeedStatus] for t in ServiceType]

    def compared() -> None:
        for role, scope in ((Role.FUND_MANAGER, ""), (Role.AUDITOR, ""), (Role.ADVOCATE, "CAF")):
            with acting_as(role, scope) as viewer:
                for chosen in filters:
                    assert needs_table(viewer, chosen).cells == counted(viewer, chosen), (role, chosen)

    compared()
    with acting_as(Role.ADVOCATE, "CAF, COD") as actor:
        victim = db.session.scalars(select(Victim).where(Victim.country_code == "COD")).first()
        assert victim is not None
        needs.assess_need(actor=actor, victim=victim, need_type="medical", status="met")
        needs.assess_need(actor=actor, victim=victim, need_type="legal", status="unmet", reason="no_funds")
        db.session.commit()
    compared()
