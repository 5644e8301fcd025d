"""New passwords are checked against common passwords and this application's own words (issue 15,
item 8): through the change-password form, the admin's new-user form and the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_app, sign_in
from vat.auth.models import Role, User, UserScope
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
        client = app.test_client()
        sign_in(app, client, user)
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
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.username == "newmanager")) == 0
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
