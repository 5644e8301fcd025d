"""Two app servers (separate processes) on one database share sessions and login limits:
nothing that must be shared lives in a process's memory."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.soak.conftest import Client
from vat.auth.models import Role


def sign_in(client: Client, username: str) -> int:
    status, _ = client.post_form("/auth/login", {"username": username, "password": PASSWORD})
    return status


def test_sessions_are_shared_and_logout_anywhere_ends_them(start_server, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    first, second = start_server(), start_server()
    alice = Client(first.url)
    assert sign_in(alice, user.username) == 302
    assert alice.request("/")[0] == 200

    on_second = Client(second.url)
    on_second.use_session_cookie(alice.session_cookie())
    assert on_second.request("/")[0] == 200  # the same session, served by the other process

    status, _ = on_second.post_form("/auth/logout", {}, token_from="/")
    assert status == 302
    assert alice.request("/")[0] == 302  # ended everywhere, although the cookie is unchanged


def test_login_failures_count_across_processes(start_server, make_user):
    user = make_user(Role.FUND_MANAGER, "")
    servers = [start_server(), start_server()]
    for attempt in range(5):
        client = Client(servers[attempt % 2].url)
        status, _ = client.post_form("/auth/login", {"username": user.username, "password": "wrong one!!"})
        assert status == 200
    for server in servers:
        assert sign_in(Client(server.url), user.username) == 429
