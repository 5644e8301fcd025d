"""New passwords are checked against common passwords and this application's own words (issue 15,
item 8): through the change-password form, the admin's new-user form and the command line."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from tests.conftest import PASSWORD, make_app, row_count, signed_in_client
from vat.auth.models import Role, User, UserScope
from vat.auth.passwords import _in_hash_file
from vat.config import ConfigurationError
from vat.db import db

REFUSED_AS_COMMON_OR_OURS = [
    "Summer2026!!",  # accepted before (zxcvbn score 3)
    "Minusca2026!",  # a mission
    "Bangui2026!!",  # where a mission works
    "Monusco 2026!!",
    "Kinshasa2026!",
    "Password2026!",
    "!!Unmiss2026",
    "Madagascar2026!",  # a country
    "Peacekeeping2026",
    "Nations2026!!!",  # the organisation (default: United Nations)
]
ACCEPTED = [PASSWORD, "a brand new passphrase 7", "tangerine glacier notebook", "q3Xv9LmT0aZ-rW7k"]


def change_password(client, new: str):
    return client.post("/auth/password", data={"current": PASSWORD, "new": new, "confirm": new})


@pytest.mark.parametrize("weak", REFUSED_AS_COMMON_OR_OURS)
def test_common_passwords_and_the_applications_words_are_refused(client, login, weak):
    login(Role.FUND_MANAGER, "")
    response = change_password(client, weak)
    assert response.status_code == 200
    assert "a word of this application, with digits or symbols added" in response.get_data(as_text=True)


@pytest.mark.parametrize("strong", ACCEPTED)
def test_strong_passwords_are_accepted(client, login, strong):
    login(Role.FUND_MANAGER, "")
    assert change_password(client, strong).status_code == 302


def test_guessable_passwords_beyond_the_lists_are_refused(client, login):
    login(Role.FUND_MANAGER, "")
    for weak in ("qwertyuiopasdf", "123456789012345", "bench " + "x" * 24, "abcabcabcabcabc"):
        page = change_password(client, weak).get_data(as_text=True)
        assert "too easy to guess" in page, weak


def test_long_passwords_are_estimated_not_a_500(client, login):
    """zxcvbn refuses passwords over 72 characters with a ValueError unless told its limit."""
    login(Role.FUND_MANAGER, "")
    assert "too easy to guess" in change_password(client, "x" * 128).get_data(as_text=True)
    assert "128 characters" in change_password(client, "x" * 129).get_data(as_text=True)
    assert change_password(client, "tangerine glacier notebook " * 4).status_code == 302


def test_the_organisation_and_the_installations_missions_are_words_of_ours(database_url, make_user):
    app = make_app(database_url, VAT_ORGANISATION="Zentravia Relief Office")
    user = make_user(Role.FUND_MANAGER, "")
    with app.app_context():  # a mission of this installation's own, in someone's scope
        db.session.add(UserScope(user_id=user.id, country_code="CAF", mission="ZORBANIA"))
        db.session.commit()
    for word in ("Zentravia2026!!", "Zorbania2026!!"):
        client = signed_in_client(app, user)
        page = change_password(client, word).get_data(as_text=True)
        assert "a word of this application" in page, word


def test_the_username_is_refused_inside_a_password(client, login):
    user = login(Role.FUND_MANAGER, "")
    page = change_password(client, f"x{user.username}-tangerine-glacier").get_data(as_text=True)
    assert "must not contain the username" in page


def test_the_admin_cannot_create_an_account_with_a_weak_password(app, client, login):
    login(Role.ADMIN, "")
    data = {"username": "newmanager", "role": "fund_manager", "scope": "", "password": "Bangui2026!!"}
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 200
    assert "a word of this application" in response.get_data(as_text=True)
    assert row_count(app, User, User.username == "newmanager") == 0
    data["password"] = "tangerine glacier notebook"
    assert client.post("/admin/users/new", data=data).status_code == 302


def test_the_command_line_refuses_a_weak_password(runner):
    result = runner.invoke(
        args=["create-user", "cliadmin", "--role", "admin"], input="Minusca2026!\nMinusca2026!\n"
    )
    assert result.exit_code != 0
    assert "a word of this application" in result.output


def test_refusals_are_translated(client, login):
    login(Role.FUND_MANAGER, "")
    for language, expected in (("fr", "mot de passe courant"), ("zh", "常见密码")):
        response = client.post(
            "/auth/password",
            data={"current": PASSWORD, "new": "Summer2026!!", "confirm": "Summer2026!!"},
            headers={"Accept-Language": language},
        )
        assert expected in response.get_data(as_text=True), language


# Long entries of zxcvbn's leaked-password list (the Xato corpus), one dressed as people do.
BREACHED = ["leavemealone", "1qaz2wsx3edc", "finalfantasy", "L3av3M3alon3", "F1nalFanta$y"]


@pytest.mark.parametrize("breached", BREACHED)
def test_passwords_leaked_in_breaches_are_refused(client, login, breached):
    login(Role.FUND_MANAGER, "")
    page = change_password(client, breached).get_data(as_text=True)
    assert "leaked in breaches" in page, breached


def hibp_file(path, passwords, filler=3000):
    """A file shaped like Have I Been Pwned's SHA-1 download: HASH:COUNT lines, sorted, CRLF."""
    digests = {hashlib.sha1(p.encode(), usedforsecurity=False).hexdigest().upper() for p in passwords}
    digests |= {secrets.token_hex(20).upper() for _ in range(filler)}
    lines = sorted(f"{d}:{secrets.randbelow(10**6)}\r\n" for d in digests)
    path.write_text("".join(lines), newline="")
    return sorted(digests)


def test_the_hash_file_search_finds_every_line_and_nothing_else(tmp_path):
    path = tmp_path / "pwned.txt"
    digests = hibp_file(path, [], filler=500)
    for digest in digests:  # first, last and every line between
        assert _in_hash_file(path, digest.encode()), digest
    for _ in range(200):
        assert not _in_hash_file(path, secrets.token_hex(20).upper().encode())
    assert not _in_hash_file(path, b"0" * 40) and not _in_hash_file(path, b"F" * 40)


def test_a_password_in_the_operators_breach_file_is_refused_offline(database_url, make_user, tmp_path):
    leaked = "tangerine glacier notebook"  # strong by every other measure
    path = tmp_path / "pwned.txt"
    hibp_file(path, [leaked])
    app = make_app(database_url, VAT_BREACHED_PASSWORDS_FILE=str(path))
    user = make_user(Role.FUND_MANAGER, "")
    client = signed_in_client(app, user)
    assert "leaked in breaches" in change_password(client, leaked).get_data(as_text=True)
    assert change_password(client, "a brand new passphrase 7").status_code == 302


def test_a_breach_file_that_is_not_there_refuses_to_start(database_url, tmp_path):
    with pytest.raises(ConfigurationError, match="VAT_BREACHED_PASSWORDS_FILE"):
        make_app(database_url, VAT_BREACHED_PASSWORDS_FILE=str(tmp_path / "absent.txt"))
