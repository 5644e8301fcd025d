"""ASVS 5.0 requirements docs/security.md listed as met without a test of ours, each now proved
through the HTTP layer (11.3.4 through the one function every encrypted field goes through)."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ledger.models import Donor
from ledger.services.ledger_import import COLUMNS
from tests.conftest import PASSWORD, make_app, sign_in
from tests.ledger.pages import entry_count
from tests.test_app import production_environment
from tests.vat.big_import import VICTIM_COLUMNS
from tests.vat.test_import import workbook
from vat import create_app
from vat.audit import AuditEvent
from vat.auth import services as auth
from vat.auth.models import Role, User
from vat.crypto import keyring
from vat.db import db

HOST = "vat.example.org"
SAFE_FILE_NAME = re.compile(r'attachment; filename="?[A-Za-z0-9][A-Za-z0-9._-]*"?')


def post_login(client, username, password=PASSWORD, **kwargs):
    return client.post("/auth/login", data={"username": username, "password": password}, **kwargs)


# --- 4.1.1 Content-Type matches the body; 5.4.2 served file names made by the app -------------


@pytest.mark.parametrize(
    ("role", "path", "media_type", "starts"),
    [
        (Role.AUDITOR, "/admin/audit/export.csv", "text/csv", b""),
        (Role.AUDITOR, "/reports/fund/export.csv", "text/csv", b""),
        (Role.AUDITOR, "/reports/fund/export.xlsx", "application/vnd.openxmlformats", b"PK"),
        (Role.AUDITOR, "/reports/fund/export.pdf", "application/pdf", b"%PDF"),
        (Role.FUND_MANAGER, "/ledger/import/template.csv", "text/csv", b"kind,"),
        (Role.FUND_MANAGER, "/ledger/import/template.xlsx", "application/vnd.openxmlformats", b"PK"),
        (Role.AUDITOR, "/auth/sessions", "text/html; charset=utf-8", b""),
    ],
)
def test_each_download_names_its_type_and_a_file_name_of_its_own(
    client, login, role, path, media_type, starts
):
    login(role, "")
    # A request that names a file, a path or a type changes neither.
    hostile = {"filename": '../../etc/passwd"; x=', "name": "a\r\nSet-Cookie: x=1", "format": "html"}
    response = client.get(path, query_string=hostile)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"].startswith(media_type)
    assert response.data.startswith(starts)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if media_type.startswith("text/html"):
        assert b"<!doctype html>" in response.data[:100]
        return
    disposition = response.headers["Content-Disposition"]
    assert SAFE_FILE_NAME.fullmatch(disposition), disposition
    assert "passwd" not in disposition and "Set-Cookie" not in str(response.headers)


# --- 13.4.1 no source-control metadata or secrets served; 13.4.3 no directory listings ---------

NEVER_SERVED = [
    "/.git/config",
    "/.git/HEAD",
    "/.env",
    "/static/.git/config",
    "/static/../.git/HEAD",
    "/static/%2e%2e/.git/HEAD",
    "/static/..%2f.git/HEAD",
    "/static/wsgi.py",
    "/static/instance/secrets.json",
    "/static/../instance/secrets.json",
    "/ledger/static/../../.git/HEAD",
    "/ledger/static/../forms.py",
    "/instance/secrets.json",
    "/wsgi.py",
    "/pyproject.toml",
    "/migrations/env.py",
]
LISTINGS = ["/static/", "/static/css/", "/static", "/ledger/static/", "/translations/", "/.git/"]


@pytest.mark.parametrize("path", NEVER_SERVED + LISTINGS)
def test_no_source_metadata_secret_or_directory_listing_is_served(client, login, path):
    for _signed_in in (False, True):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code in (301, 302, 308, 404), (path, response.status_code)
        for leak in (
            "[core]",
            "ref: refs/",
            "SECRET_KEY",
            "VAT_DATA_KEY",
            "Index of",
            "import ",
            "<li><a href",
        ):
            assert leak not in body, (path, leak)
        login(Role.ADMIN, "")


# --- 6.2.6 masked, 6.2.7 paste allowed, 6.2.8 verified exactly as received ----------------------

PASSWORD_INPUT = re.compile(r"<input[^>]*\bname=\"(?:password|current|new|confirm|new_password)\"[^>]*>")


def test_password_inputs_are_masked_and_let_a_manager_paste(client, login):
    pages = {"/auth/login": None, "/auth/reset": None}
    for path in pages:
        pages[path] = client.get(path).get_data(as_text=True)
    login(Role.FUND_MANAGER, "")
    pages["/auth/password"] = client.get("/auth/password").get_data(as_text=True)
    inputs = [tag for html in pages.values() for tag in PASSWORD_INPUT.findall(html or "")]
    assert len(inputs) >= 4, inputs  # login, reset (new and again), change (current, new, again)
    for tag in inputs:
        assert 'type="password"' in tag, tag
        for blocker in ("onpaste", "oncopy", "ondrop", 'autocomplete="off"', "readonly", 'maxlength="6'):
            assert blocker not in tag, tag


@pytest.mark.parametrize(
    "stored",
    [
        "  Gorilla violin, tangerine sunset  ",  # spaces before and after
        "Ünïcode pässwörd ŝtays ǅ exactly" + "ﬁ",  # letters NFKC would change
        "x7" * 30 + "Longer than seventy-two bytes",  # beyond bcrypt's 72 bytes
    ],
)
def test_a_password_is_verified_exactly_as_it_was_set(app, client, stored):
    with app.app_context():
        user = auth.create_user(actor=None, username="reader7", password=stored, role=Role.AUDITOR)
        db.session.commit()
        username = user.username
    near = {
        stored.strip(),
        stored.upper(),
        stored.lower(),
        stored[:72],
        stored[:64],
        stored.replace("ﬁ", "fi"),
        stored + " ",
    } - {stored}
    for guess in sorted(near)[:4]:  # the free attempts before the account's delay
        assert post_login(client, username, guess).status_code == 200, guess
    assert post_login(client, username, stored).status_code == 302


# --- 3.3.3 __Host- prefix on both cookies; 9.2.1 the device cookie's validity period -------------


def test_production_names_both_cookies_host_prefixed_secure_on_the_path_root(monkeypatch, tmp_path):
    production_environment(monkeypatch, tmp_path)
    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        auth.create_user(actor=None, username="reader", password=PASSWORD, role=Role.AUDITOR)
        db.session.commit()
    client = app.test_client()
    https = {"base_url": f"https://{HOST}"}
    page = client.get("/auth/login", **https).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/auth/login",
        data={"username": "reader", "password": PASSWORD, "csrf_token": token},
        headers={"Referer": f"https://{HOST}/auth/login"},
        **https,
    )
    assert response.status_code == 302
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-vat_session", "__Host-vat_device"}
    for header in cookies.values():
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
        assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes, header
        assert "Path=/" in header and "SameSite=Lax" in header, header
    with app.app_context():
        db.engine.dispose()


def test_a_device_cookie_older_than_its_days_no_longer_vouches_for_the_owner(app, clock, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    owner = app.test_client()
    assert post_login(owner, user.username).status_code == 302
    owner.post("/auth/logout")
    days = app.config["VAT_DEVICE_COOKIE_DAYS"]

    def strangers_then_owner() -> int:
        for n in range(6):
            post_login(
                app.test_client(),
                user.username,
                f"guess {n}!!",
                environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
            )
        return post_login(owner, user.username).status_code

    clock.shift(timedelta(days=days - 1))
    assert strangers_then_owner() == 302  # still within its days: the owner's device has its own count
    owner.post("/auth/logout")
    clock.shift(timedelta(days=2))  # the cookie the owner brings was signed more than `days` ago
    assert owner.get_cookie("vat_device") is not None
    assert strangers_then_owner() == 429  # counted as anyone knowing the username


# --- 15.3.3 mass assignment; 15.3.7 parameter pollution -----------------------------------------


def test_fields_a_form_does_not_declare_reach_no_record(app, client, login):
    manager = login(Role.FUND_MANAGER, "")
    extra = {
        "id": "77",
        "created_by_id": "999",
        "created_at": "2000-01-01",
        "kind": "other",
        "name": "Fondation A",
    }
    assert client.post("/ledger/donors/new", data={"country_code": "", **extra}).status_code == 302
    # Nor can a user's own form change the user's role.
    client.post("/auth/password", data={"current": PASSWORD, "role": "admin", "is_admin": "1"})
    with app.app_context():
        donor = db.session.scalars(select(Donor).where(Donor.name == "Fondation A")).one()
        assert donor.id != 77 and db.session.get(Donor, 77) is None
        assert db.session.get(User, manager.id).role == Role.FUND_MANAGER


def test_a_repeated_parameter_counts_once_by_its_first_value(app, client, login):
    login(Role.FUND_MANAGER, "")
    data = MultiDict(
        [
            ("kind", "other"),
            ("country_code", ""),
            ("name", "First"),
            ("name", "Second"),
            ("kind", "member_state"),
        ]
    )
    assert client.post("/ledger/donors/new", data=data).status_code == 302
    with app.app_context():
        named = select(Donor.name).where(Donor.name.in_(["First", "Second"]))
        assert db.session.scalars(named).all() == ["First"]
    listed = client.get("/ledger/direct-support?page=1&page=999999&case_code=A&case_code=B")
    assert listed.status_code == 200


# --- 1.2.2 URLs built with encoding -----------------------------------------------------------


def test_a_filter_value_is_encoded_in_every_link_it_is_carried_into(client, login):
    login(Role.FUND_MANAGER, "")
    hostile = 'A&page=9#"><x'
    page = client.get("/ledger/direct-support", query_string={"case_code": hostile}).get_data(as_text=True)
    links = re.findall(r'href="(/ledger/direct-support\?[^"]*)"', page)
    assert links, "the list's sort links carry its filters"
    for link in links:
        assert "case_code=A%26page%3D9%23%22%3E%3Cx" in link.replace("&amp;", "&"), link
    assert "page=9" not in "".join(links) and "<x" not in page.replace("&lt;x", "")


# --- 1.3.7 template injection; 1.3.10 format strings -----------------------------------------


def test_template_syntax_and_placeholders_typed_into_a_field_are_shown_as_typed(app, client, login):
    login(Role.FUND_MANAGER, "")
    typed = "{{ 12345*1001 }} {{ config.SECRET_KEY }} {% if 1 %}x{% endif %} %(name)s %s {0} ${7*7}"
    created = client.post("/ledger/donors/new", data={"kind": "other", "country_code": "", "name": typed})
    assert created.status_code == 302
    html = client.get(created.location).get_data(as_text=True)
    assert typed in html
    assert "12357345" not in html and app.config["SECRET_KEY"] not in html


# --- 1.5.1 XML parsers restricted --------------------------------------------------------------


def workbook_with(doctype: str, entity: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["receipt", "2019-01-10", "MARKER"] + [""] * (len(COLUMNS) - 3))
    plain = io.BytesIO()
    book.save(plain)
    packed = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename in ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"):
                text = data.decode()
                declared = text.startswith("<?xml")
                head, _, rest = text.partition("?>") if declared else ("", "", text)
                text = (head + "?>" if declared else "") + doctype + rest.replace("MARKER", entity)
                data = text.encode()
            target.writestr(item, data)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("doctype", "entity"),
    [
        ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        (
            '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
            '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>',
            "&f;",
        ),
        ("", "&undeclared;"),  # malformed XML
    ],
    ids=["external-entity", "entity-expansion", "undeclared-entity"],
)
def test_an_uploaded_workbook_cannot_declare_xml_entities(app, client, login, doctype, entity):
    login(Role.FUND_MANAGER, "")
    upload = {"file": (io.BytesIO(workbook_with(doctype, entity)), "history.xlsx")}
    started = time.perf_counter()
    before = entry_count(app)
    response = client.post("/ledger/import", data=upload, content_type="multipart/form-data")
    assert time.perf_counter() - started < 10
    assert 400 <= response.status_code < 500
    body = response.get_data(as_text=True)
    assert "root:" not in body and "aaaaaaaaaaaaaaaaaaaa" not in body
    assert entry_count(app) == before


# --- 16.2.2 UTC; 16.4.1 no log injection -----------------------------------------------------


@pytest.mark.clock("2026-03-01T23:30:00Z")
def test_audit_times_are_utc_whatever_the_servers_zone(app, client, make_user, clock, monkeypatch):
    user = make_user(Role.FUND_MANAGER, "")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: already the next day there
    time.tzset()
    try:
        assert post_login(client, user.username, "not the password!").status_code == 200
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).one()
        at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
        assert at == datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        assert at.utcoffset() == timedelta(0)


def test_line_breaks_sent_in_a_request_forge_no_log_line(app, client, login, caplog):
    forged = "x\r\nERROR vat: FORGED admin signed in"
    with caplog.at_level("DEBUG"):
        post_login(client, forged, forged)
        login(Role.AUDITOR, "")
        client.get("/admin/users", query_string={"q": forged})  # refused: logged
        client.post("/auth/logout", data={"next": forged})
        client.get("/ledger/entries/1%0d%0aFORGED")
    assert caplog.records, "the refusal is logged"
    for record in caplog.records:
        message = record.getMessage()
        assert "FORGED" not in message and "\n" not in message and "\r" not in message, message
    with app.app_context():
        failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
        for event in failed:
            assert "\n" not in event.detail and "\r" not in event.detail
            json.loads(event.detail)


# --- 11.3.4 a nonce never reused -------------------------------------------------------------


def test_each_encryption_draws_a_new_nonce(app):
    with app.app_context():
        ring = keyring()
        sealed = [ring.encrypt("CAR-2017-0042 Marie", "vat_victim.name") for _ in range(20_000)]
    nonces = {base64.b64decode(value.split(":", 2)[2])[:12] for value in sealed}
    assert len(nonces) == len(sealed)


# --- 5.3.2 internal file paths; 5.4.1 the uploaded file's name ignored -------------------------


def test_an_uploads_own_name_never_becomes_a_path(database_url, make_user, tmp_path):
    jobs_folder = tmp_path / "jobs"
    app = make_app(database_url, VAT_JOBS_FOLDER=str(jobs_folder), VAT_JOBS_IMMEDIATE=False)
    client = app.test_client()
    sign_in(app, client, make_user(Role.ADVOCATE, "CAF"))
    rows = [
        [*VICTIM_COLUMNS],
        ["CAR-2016-0007", "CAF", "MINUSCA", "female", "minor", "Canary Name", "", None],
    ]
    hostile = "../escaped.upload.xlsx"  # were it a path: beside the jobs' folder
    response = client.post(
        "/vat/import",
        data={"kind": "victims", "file": (workbook({"victims": rows}), hostile)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    job_id = response.location.rsplit("/", 1)[-1]
    stored = [path for path in tmp_path.rglob("*") if path.is_file() and "escaped" in str(path)]
    assert stored == []
    uploads = [path for path in jobs_folder.rglob("*") if path.is_file() and "queue.db" not in path.name]
    assert sorted(path.name for path in uploads) == [f"{job_id}.params", f"{job_id}.upload"]
    for path in uploads:  # the job's arguments and the file, encrypted
        assert b"Canary" not in path.read_bytes() and b"escaped" not in path.read_bytes()
    page = client.get(response.location).get_data(as_text=True)
    assert "escaped" not in page and "../" not in page
