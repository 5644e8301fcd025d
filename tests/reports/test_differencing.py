"""Differencing across filter settings (S13, "narrowing filters to unmask anonymous reports"):
query-set-size control refuses, to those who see only aggregates, any filter setting that matches
fewer than k or that could be subtracted from a wider setting to leave fewer than k."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import product

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from tests.reports.conftest import exported
from vat.audit import AuditEvent
from vat.auth.models import Role, User
from vat.db import db
from vat.reports.populations import filter_setting, too_few_to_show_for, victim_cube
from vat.reports.scope import VictimFilters, threshold, victim_conditions
from vat.reports.suppression import population, too_few_to_show
from vat.victims import support_summary
from vat.victims.models import Consent, SupportSummary, Victim

DOMAINS = (("A", "B"), ("M1", "M2", None), (2024, 2025), ("f", "m"), (1, 0, None))


def _every_setting(*domains):
    """Every filter setting over the given values (None: not filtered)."""
    return list(product(*[(None, *[v for v in domain if v is not None]) for domain in domains]))


def _members(units, setting):
    def picked(key):
        return all(wanted is None or value == wanted for value, wanted in zip(key, setting, strict=True))

    return frozenset(i for i, key in enumerate(units) if picked(key))


units_strategy = st.lists(
    st.tuples(*[st.sampled_from(domain) for domain in DOMAINS]),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(units=units_strategy, k=st.integers(min_value=2, max_value=6))
def test_no_two_shown_settings_can_be_subtracted_to_reveal_fewer_than_k(units, k):
    cube = Counter(units)
    shown = {}
    for setting in _every_setting(*DOMAINS):
        if not too_few_to_show(cube, setting, k):
            shown[_members(units, setting)] = setting
    everyone = frozenset(range(len(units)))
    for members, setting in shown.items():
        assert members == everyone or len(members) >= k, setting
        assert len(everyone - members) == 0 or len(everyone - members) >= k, setting
        for wider, wider_setting in shown.items():
            if members < wider:
                assert len(wider - members) >= k, (setting, wider_setting)


def test_a_mission_that_is_most_of_its_country_is_refused_but_the_country_is_not():
    # "all missions vs all but one": country A has M1 (8) and M2 (2); country B has 10.
    cube = Counter(
        {("A", "M1", 2025, "f", 0): 8, ("A", "M2", 2025, "f", 0): 2, ("B", "M3", 2025, "f", 0): 10}
    )
    assert too_few_to_show(cube, (None, "M1", None, None, None), 5)  # A minus M1 would be 2
    assert too_few_to_show(cube, ("A", "M1", None, None, None), 5)
    assert too_few_to_show(cube, (None, "M2", None, None, None), 5)  # only 2
    assert not too_few_to_show(cube, ("A", None, None, None, None), 5)  # 10, and 10 outside
    assert not too_few_to_show(cube, (None, None, 2025, None, None), 5)  # everyone: same as no filter
    assert not too_few_to_show(cube, (None, None, None, None, None), 5)
    assert population(cube, ("A", None, None, None, None)) == 10


def test_the_complement_of_a_setting_is_protected_too():
    cube = Counter({("A", None, 2025, "f", 0): 20, ("B", None, 2025, "f", 0): 3})
    assert too_few_to_show(cube, ("A", None, None, None, None), 5)  # everyone minus A would be 3
    assert too_few_to_show(cube, ("B", None, None, None, None), 5)
    assert not too_few_to_show(cube, ("A", None, None, None, None), 3)  # at k = 3 both are enough


def test_threshold_one_refuses_nothing():
    cube = Counter({("A", None, 2025, "f", 0): 1})
    assert not too_few_to_show(cube, ("A", None, None, None, None), 1)


# --- the cube against the SQL filters, on random small data sets in the database ---------------

PLACES = [("CAF", "MINUSCA"), ("CAF", None), ("COD", "MONUSCO")]
DB_SETTINGS = _every_setting(("CAF", "COD"), ("MINUSCA", "MONUSCO"), (2020, 2021), ("female", "male"), (1, 0))

victims_strategy = st.lists(
    st.tuples(
        st.sampled_from(PLACES),
        st.sampled_from((2020, 2021)),
        st.sampled_from(("female", "male", "unknown")),
        st.sampled_from(("minor", "adult", "unknown")),
        st.booleans(),  # consented to aggregate reporting: counted either way
    ),
    max_size=25,
)


def _filters(setting) -> VictimFilters:
    country, mission, year, sex, minor = setting
    return VictimFilters(
        country_code=country or "",
        mission=mission or "",
        year=year,
        sex=sex or "",
        minor=None if minor is None else bool(minor),
    )


def _replace_victims(victims) -> None:
    db.session.execute(delete(Consent))
    db.session.execute(delete(SupportSummary))
    db.session.execute(delete(Victim))
    for number, ((country, mission), year, sex, age, consented) in enumerate(victims):
        victim = Victim(
            case_code=f"T-{number:04d}",
            country_code=country,
            mission=mission,
            sex=sex,
            age_group=age,
            registered_on=date(year, 6, 1),
        )
        if consented:
            consent = Consent(
                purpose="aggregate_reporting", given_on=victim.registered_on, method="written", version="1"
            )
            victim.consents.append(consent)
        db.session.add(victim)
    db.session.flush()
    support_summary.rebuild()  # the cube reads the counts the summary adds up to
    db.session.commit()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(victims=victims_strategy)
def test_refusals_follow_the_victims_the_sql_filters_select(app, make_user, victims):
    auditor_id = make_user(Role.AUDITOR, "").id
    with app.app_context():
        _replace_victims(victims)
        auditor = db.session.get(User, auditor_id)
        k = threshold()
        cube = victim_cube(auditor)
        shown = {}
        for setting in DB_SETTINGS:
            filters = _filters(setting)
            conditions = victim_conditions(auditor, filters, consented_only=False)
            members = frozenset(db.session.scalars(select(Victim.id).where(*conditions)))
            assert population(cube, filter_setting(filters)) == len(members), setting
            if not too_few_to_show_for(auditor, filters, "victims"):
                shown[members] = setting
        for members, setting in shown.items():
            for wider, wider_setting in shown.items():
                if members < wider:
                    assert len(wider - members) >= k, (setting, wider_setting)
        total = db.session.scalar(select(func.count()).select_from(Victim))
        assert population(cube, (None,) * 5) == total


# --- through the pages ---------------------------------------------------------------------------

TOO_FEW = "Too few victims match these filters to show figures; widen them."


def test_auditor_is_refused_a_narrow_filter_with_the_message_not_an_empty_table(app, client, login, world):
    login(Role.AUDITOR, "")
    # Nine victims: seven in CAF, two in COD. CAF alone would leave two victims when subtracted
    # from the unfiltered report.
    for path in ("/reports/victims", "/reports/assistance"):
        response = client.get(path, query_string={"country": "CAF"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and TOO_FEW in page, path
        assert 'id="too-few"' in page and "<table" not in page
        assert 'name="country"' in page  # the filters are there to widen
    unfiltered = client.get("/reports/victims").get_data(as_text=True)
    assert TOO_FEW not in unfiltered and 'id="victims-total">9<' in unfiltered


def test_exports_are_refused_too_and_not_audited_as_exports(app, client, login, world):
    login(Role.AUDITOR, "")
    for path in (
        "/reports/victims/export.csv",
        "/reports/victims/export.xlsx",
        "/reports/assistance/export.csv",
    ):
        response = client.get(path, query_string={"year": "2021"})  # 6 of 9: three are left out
        assert response.status_code == 422, path
        assert TOO_FEW in response.get_data(as_text=True)
        assert "Content-Disposition" not in response.headers
    with app.app_context():
        assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()


def test_claims_and_clock_refuse_filters_over_too_few_claims_or_allegations(client, login, world):
    login(Role.FUND_MANAGER, "")
    claims = client.get("/reports/claims", query_string={"country": "CAF"}).get_data(as_text=True)
    assert TOO_FEW in claims  # the world has no claims at all
    clock = client.get("/reports/clock", query_string={"country": "CAF"}).get_data(as_text=True)
    assert "Too few allegations match these filters to show figures; widen them." in clock
    assert client.get("/reports/clock/export.csv", query_string={"country": "CAF"}).status_code == 422
    assert client.get("/reports/claims/export.xlsx", query_string={"year": "2021"}).status_code == 422


def test_a_filter_wide_enough_is_shown_to_the_auditor(app, client, login, world):
    app.config["VAT_SUPPRESSION_THRESHOLD"] = 2
    login(Role.AUDITOR, "")
    # Two minors (CAF / MINUSCA); seven others, five of them in CAF: every wider setting differs
    # by at least two.
    page = client.get("/reports/victims", query_string={"minor": "yes"}).get_data(as_text=True)
    assert TOO_FEW not in page and 'id="victims-total">2<' in page
    # Sex: one male, so "female" would leave him alone when subtracted.
    assert TOO_FEW in client.get("/reports/victims", query_string={"sex": "female"}).get_data(as_text=True)


def test_advocate_rows_are_unaffected(client, login, world):
    login(Role.ADVOCATE, "CAF")
    page = client.get("/reports/victims", query_string={"country": "CAF", "year": "2020"}).get_data(
        as_text=True
    )
    assert TOO_FEW not in page and 'id="victims-total">3<' in page and "CAR-2020-0003" in page
    response = exported(client, "csv", sex="male")
    assert response.status_code == 200 and "CAR-2021-0004" in response.get_data(as_text=True)
