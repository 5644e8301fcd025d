"""Every route, fuzzed: path parameters (ids and steps), query parameters (page numbers, filters,
`next`, the fields of the GET forms a view reads) and posted form fields get hostile values —
integers past 64 bits, non-ASCII digits, CR/LF, very long text — signed in as each role and as
nobody. Never a 500; a `next` never puts a line break into a header."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter, Rule

from tests.conftest import PASSWORD
from tests.security.conftest import (
    FIXED_ARGUMENTS,
    FUZZING,
    IN_SCOPE,
    SKIPPED_ENDPOINTS,
    Clients,
    in_address,
    seeded_objects,
)
from tests.security.forms import form_fields
from vat.auth.models import Role
from vat.auth.policy import can, declared_permission

EXAMPLES_PER_ROLE = 1  # per GET route and per role that may open it
POSTS_PER_ROLE = 1  # per POST route (tests/security/test_form_fuzzing.py posts many more, as one role)
ROLES = [None, *Role]
ROOT = Path(__file__).resolve().parents[2]

HUGE_INTEGERS = [str(2**70), str(2**63), str(2**31), "9" * 400, "-1", "0", "00000000000000000001"]
ODD_DIGITS = ["٣", "١٢", "１２", "²", "߁", "1e3", "0x10", "1.5", " 1", "+1"]
LINE_BREAKS = [
    "/\r\nSet-Cookie: planted=1",
    "/ledger/\r\n",
    "\r\n",
    "/%0d%0aLocation:%20https://evil.example",
    "/\nx",
    "/\u2028x",
    "/\x85x",
]
LONG = ["x" * 5_000, "é" * 20_000, "/" + "a" * 70_000]
PATH_VALUES = st.sampled_from(HUGE_INTEGERS + ODD_DIGITS + ["%0d%0a", "é", "x" * 3000])
QUERY_VALUES = st.one_of(
    st.sampled_from(HUGE_INTEGERS + ODD_DIGITS + LINE_BREAKS + LONG),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(max_size=30),
)


def query_names(app) -> list[str]:
    """Every query parameter a view reads by name (`request.args.get("page")`), from the source."""
    pattern = re.compile(r'request\.args(?:\.get)?[\(\[]\s*"(\w+)"')
    names: set[str] = {"next", "page", "per_page"}
    for folder in ("vat", "ledger"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(pattern.findall(path.read_text()))
    return sorted(names)


def routes(app, method: str) -> list[Rule]:
    return [
        rule
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        if rule.methods and method in rule.methods and "filename" not in rule.arguments
    ]


def roles_for(app, rule: Rule) -> list[Role | None]:
    """Nobody signed in, and each role that may open the route (the others stop at a 403)."""
    permission = declared_permission(app, rule.endpoint)
    assert permission is not None, rule.endpoint
    return [None] + [r for r in Role if can(SimpleNamespace(is_authenticated=True, role=r), permission)]


def address(rule: Rule, values: dict[str, object], hostile: dict[str, str]) -> str:
    """The rule's URL with its in-scope values, some path parameters replaced as they are (quoted,
    not converted: a converter would refuse them before the app ever saw them)."""
    marked = {name: 987_650_000 + i for i, name in enumerate(sorted(in_address(rule)))}
    url = rule.build({n: values[n] if n not in hostile else marked[n] for n in in_address(rule)})[1]
    for name, value in hostile.items():
        url = url.replace(str(marked[name]), quote(value, safe=""))
    return url


def fuzz(
    clients: Clients, rule: Rule, values: dict[str, object], names: list[str], failures: list, method: str
) -> int:
    """A few examples on one route for each role that may open it: hostile path values, and
    hostile query parameters (GET) or form fields (POST); the number of requests made."""
    with clients.app.test_request_context():
        fields = form_fields(clients.app, rule, values)  # the forms the view fills from the request
    path_names = sorted(in_address(rule))
    hostile_path = (
        st.dictionaries(st.sampled_from(path_names), PATH_VALUES, max_size=len(path_names))
        if path_names
        else st.just({})
    )
    hostile_query = st.dictionaries(st.sampled_from(sorted({*names, *fields})), QUERY_VALUES, max_size=4)
    made = 0
    examples = EXAMPLES_PER_ROLE if method == "GET" else POSTS_PER_ROLE

    def examples_as(role: Role | None) -> None:
        @settings(max_examples=examples, **FUZZING)
        @given(path=hostile_path, query=hostile_query)
        def visit(path, query):
            nonlocal made
            made += 1
            url = address(rule, values, path)
            shown = (rule.endpoint, role, url[:100], {k: v[:40] for k, v in query.items()})
            client = clients.signed_in(role)
            try:
                if method == "GET":
                    response = client.get(url, query_string=query)
                else:
                    response = client.post(url, data=query)
            except Exception as error:  # the test client re-raises what the app did not handle
                failures.append((*shown, repr(error)[:200]))
                return
            location = response.headers.get("Location", "")
            if response.status_code >= 500 or "\r" in location or "\n" in location:
                failures.append((*shown, response.status_code))
            response.close()

        visit()

    for role in roles_for(clients.app, rule):
        examples_as(role)
    return made


def test_every_address_survives_hostile_parameters(app, make_user):
    clients = Clients(app, make_user)
    names = query_names(app)
    values = {**seeded_objects(app, IN_SCOPE), **FIXED_ARGUMENTS}
    failures: list = []
    started = time.monotonic()
    made = sum(
        fuzz(clients, rule, values, names, failures, method)
        for method in ("GET", "POST")
        for rule in routes(app, method)
        if rule.endpoint not in SKIPPED_ENDPOINTS
    )
    elapsed = time.monotonic() - started
    assert not failures, failures[:10]
    assert 300 <= made <= 800, made
    print(f"{made} requests in {elapsed:.1f} s")


BEYOND_ANY_ID = [str(2**31), str(2**63), str(2**70), "9" * 400, "١٢", "１２", "0"]


def test_an_id_beyond_the_database_or_in_other_digits_names_no_record(app, make_user):
    """Every route with an id in its path, GET and POST, for a role that may use it: 404."""
    clients = Clients(app, make_user)
    values = {**seeded_objects(app, IN_SCOPE), **FIXED_ARGUMENTS}
    answers = []
    for method in ("GET", "POST"):
        for rule in routes(app, method):
            ids = sorted(n for n, c in rule._converters.items() if isinstance(c, IntegerConverter))
            if not ids:
                continue
            client = clients.signed_in(roles_for(app, rule)[-1])
            for value in BEYOND_ANY_ID:
                url = address(rule, values, {ids[0]: value})
                with client.open(url, method=method) as response:
                    answers.append((method, rule.endpoint, value[:12], response.status_code))
    assert len(answers) > 100
    # 405 where a GET route has the same path: the POST route no longer matches, the GET one would
    assert {a for a in answers if a[-1] not in (404, 405)} == set()


LISTS = [
    (Role.ADVOCATE, "/vat/victims"),
    (Role.ADVOCATE, "/vat/claims/"),
    (Role.ADVOCATE, "/reports/victims"),
    (Role.FUND_MANAGER, "/ledger/journal"),
    (Role.FUND_MANAGER, "/ledger/donors"),
    (Role.FUND_MANAGER, "/ledger/projects"),
    (Role.FUND_MANAGER, "/ledger/direct-support"),
]


def test_a_huge_or_foreign_page_number_shows_a_page(app, make_user):
    clients = Clients(app, make_user)
    for role, url in LISTS:
        client = clients.signed_in(role)
        for page in (str(2**70), "-3", "٣", "1e9", "9" * 5000):
            with client.get(url, query_string={"page": page}) as response:
                assert response.status_code == 200, (url, page[:12], response.status_code)


def test_a_record_named_in_the_query_beyond_any_id_names_none(app, make_user):
    client = Clients(app, make_user).signed_in(Role.ADVOCATE)
    for url in ("/vat/claims/", "/vat/claims/new", "/ledger/journal"):
        for victim in (str(2**70), "١٢"):
            with client.get(url, query_string={"victim": victim, "project": victim}) as response:
                assert response.status_code < 500, (url, response.status_code)


@pytest.mark.parametrize(
    "target", ["/\r\nSet-Cookie: planted=1", "/ledger/\r\n", "/\nx", "/\u2028x", "/\x85x", "/" + "a" * 5000]
)
def test_a_next_with_a_line_break_is_ignored(app, make_user, target):
    user = make_user(Role.FUND_MANAGER, "")
    client = app.test_client()
    client.get("/auth/login", query_string={"next": target})
    signed_in = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"
    again = client.post(
        "/auth/reauthenticate", query_string={"next": target}, data={"password": PASSWORD, "code": ""}
    )
    assert again.status_code == 302 and again.headers["Location"] == "/"


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "12345６", "²³⁴⁵⁶⁷"])
def test_a_code_in_other_digits_is_a_counted_and_audited_failure(app, make_user, code):
    """Non-ASCII digits passed `isdigit()` and then broke `secrets.compare_digest`: a 500, neither
    counted nor audited. Now a malformed code: 400, counted against the account, audited."""
    from sqlalchemy import func, select

    from vat.audit import AuditEvent
    from vat.auth.models import User
    from vat.db import db

    user = make_user(Role.ADVOCATE, IN_SCOPE)
    client = app.test_client()
    client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    response = client.post("/auth/login/code", data={"code": code})
    assert response.status_code == 400 and "six digits" in response.get_data(as_text=True)
    with app.app_context():
        counted = db.session.scalar(select(User.totp_failures).where(User.id == user.id))
        audited = db.session.scalar(select(func.count()).where(AuditEvent.action == "auth.totp_failed"))
    assert counted == 1 and audited == 1
