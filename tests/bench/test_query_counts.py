"""Every list and detail page sends the same number of SQL statements whatever the data size: the
same pages on 100 and on 400 seeded victims (detail pages on the record with the most related rows).
Part of the normal suite: the count is deterministic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from flask import Flask
from sqlalchemy import func, select

from ledger.models import Donor, Pledge, Project, Tranche
from seeding.scale import seed_scale
from tests.bench.conftest import logged_queries, session_user, signed_in_client
from tests.conftest import database_copy, make_app
from vat.allegations.models import Allegation
from vat.auth.models import Role
from vat.claims.models import Claim, ClaimEvent
from vat.db import db
from vat.victims.models import Assistance, Communication, Victim, VictimAllegation

SIZES = (100, 400)

ADVOCATE_PAGES = [
    "/",
    "/vat/victims",
    "/vat/victims?status=active&page=2",
    "/vat/victims?no_update=y",
    "/vat/victims?needs_not_met=y",
    "/vat/victims/{victim}",
    "/vat/attention",
    "/vat/attention?all=1",
    "/vat/allegations/",
    "/vat/allegations/{allegation}",
    "/vat/claims/",
    "/vat/claims/{claim}",
    "/reports/victims",
    "/reports/victims?page=2",
    "/reports/assistance",
    "/reports/assistance?by=provider",
    "/reports/quality",
    "/reports/quality?by=provider",
    "/reports/clock",
    "/reports/claims",
    "/reports/claims?states_page=2&waiting_page=2",
    "/reports/member-states",
    "/reports/member-states?page=2",
    "/reports/referrals",
    "/reports/referrals?places_page=2&times_page=2",
]
FUND_PAGES = [
    "/",
    "/ledger/",
    "/ledger/journal",
    "/ledger/journal?page=2",
    "/ledger/entries/{entry}",
    "/ledger/donors",
    "/ledger/donors?page=2",
    "/ledger/donors/{donor}",
    "/ledger/donors/{donor}?page=2",
    "/ledger/donors/{donor}/receipt",
    "/ledger/projects",
    "/ledger/projects?page=2",
    "/ledger/projects?status=ongoing&focus=services&country=CAF",
    "/ledger/projects/new",
    "/ledger/projects/{project}",
    "/ledger/withholdings",
    "/ledger/direct-support",
    "/ledger/direct-support?page=2",
    "/ledger/direct-support?start=2020-01-01&end=2024-12-31&currency=USD&country=CAF",
    "/ledger/statement",
    "/ledger/trial-balance",
    "/reports/victims",
    "/reports/assistance",
    "/reports/quality",
    "/reports/clock",
    "/reports/claims",
    "/reports/fund",
    "/reports/fund?donors_page=2&countries_page=2&reports_page=2",
    "/reports/withholdings-to-record",
    "/reports/withholdings-to-record?page=2",
]


def _most(model_column: object, group_column: object) -> int:
    """The record with the most related rows."""
    return db.session.execute(
        select(group_column).group_by(group_column).order_by(func.count(model_column).desc()).limit(1)
    ).scalar_one()


def _targets(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "victim": _most(Assistance.id, Assistance.victim_id)
            if not db.session.scalar(select(func.count(Communication.id)))
            else _most(Communication.id, Communication.victim_id),
            "allegation": _most(VictimAllegation.id, VictimAllegation.allegation_id),
            "claim": _most(ClaimEvent.id, ClaimEvent.claim_id),
            "entry": 1,
            "donor": _most(Pledge.id, Pledge.donor_id),
            "project": _most(Tranche.id, Tranche.project_id),
        }


@pytest.fixture(scope="module")
def sized_apps(
    template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[int, Flask]]:
    """Two seeded databases, copies of the migrated template."""
    with ExitStack() as copies:
        apps = {}
        for size in SIZES:
            folder = tmp_path_factory.mktemp(f"counts{size}")
            app = make_app(copies.enter_context(database_copy(template_database, folder, "vat_counts")))
            result = app.test_cli_runner().invoke(seed_scale, args=["--victims", str(size)])
            assert result.exit_code == 0, result.output
            apps[size] = app
        yield apps
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()


def _count(app: Flask, role: Role, page: str) -> tuple[int, int]:
    url = page.format(**_targets(app))
    client = signed_in_client(app, session_user(app, role))
    client.get(url)  # warm caches (clock rules, translations) the way a running server has them
    with logged_queries(app) as log:
        response = client.get(url)
    return response.status_code, len(log.statements)


@pytest.mark.parametrize(
    ("role", "page"),
    [(Role.SENIOR_ADVOCATE, p) for p in ADVOCATE_PAGES] + [(Role.FUND_MANAGER, p) for p in FUND_PAGES],
)
def test_query_count_does_not_grow_with_the_data(sized_apps: dict[int, Flask], role: Role, page: str) -> None:
    small_status, small = _count(sized_apps[SIZES[0]], role, page)
    large_status, large = _count(sized_apps[SIZES[1]], role, page)
    assert small_status == large_status == 200
    assert small == large, f"{page}: {small} statements on {SIZES[0]} victims, {large} on {SIZES[1]}"


def test_sizes_differ(sized_apps: dict[int, Flask]) -> None:
    counts = []
    for size in SIZES:
        with sized_apps[size].app_context():
            counts.append(
                [
                    db.session.scalar(select(func.count(m.id)))
                    for m in (Victim, Allegation, Claim, Donor, Project)
                ]
            )
    assert counts[1][0] == 4 * counts[0][0]
