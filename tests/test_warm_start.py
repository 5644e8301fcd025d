"""A warm start (issue 14): with VAT_WARM_START the factory compiles every template and loads every
language, so a worker's first view compiles nothing; pages render as they do without it; gunicorn
turns it on, tests and commands leave it off."""

from __future__ import annotations

import gc
import os
import re
import runpy
import weakref

import pytest

from tests.conftest import make_app, signed_in_client
from vat import ROOT
from vat.auth.models import Role
from vat.i18n import babel

# A page's per-request values: the form tokens and the idle warning's session times.
PER_REQUEST = re.compile(r'(value|content|data-[a-z-]+)="[^"]*"')


def refuse_compiling(app):
    def refuse(*args, **kwargs):
        raise AssertionError("a template was compiled while serving a page")

    app.jinja_env.compile = refuse


def test_a_warm_start_compiles_every_template_and_loads_each_language(database_url):
    cold = make_app(database_url)
    with cold.app_context():
        catalogues = babel.domain_instance.cache  # one per process, whichever app loaded them
    catalogues.clear()
    assert len(cold.jinja_env.cache) == 0 and catalogues == {}

    warm = make_app(database_url, VAT_WARM_START=True)
    compiled = {name for _loader, name in warm.jinja_env.cache.keys()}
    assert compiled == set(warm.jinja_env.list_templates())
    assert {"main/dashboard.html", "page.html", "base.html"} <= compiled
    for code in ("fr", "zh"):
        assert catalogues[code, "messages"].gettext("Dashboard") != "Dashboard"


@pytest.mark.parametrize("language", ["en", "fr", "zh"])
def test_a_warm_app_serves_pages_without_compiling_and_as_a_cold_one(database_url, make_user, app, language):
    warm = make_app(database_url, VAT_WARM_START=True)
    refuse_compiling(warm)
    user = make_user(Role.SENIOR_ADVOCATE, "")
    headers = {"Accept-Language": language}
    for path in ("/", "/vat/victims", "/reports/victims", "/no-such-page"):
        warm_page = signed_in_client(warm, user).get(path, headers=headers)
        cold_page = signed_in_client(app, user).get(path, headers=headers)
        assert warm_page.status_code == cold_page.status_code == (404 if "no-such" in path else 200)
        assert PER_REQUEST.sub("", warm_page.text) == PER_REQUEST.sub("", cold_page.text), path
    assert warm.test_client().get("/auth/login", headers=headers).status_code == 200


def test_a_cold_app_compiles_on_its_first_view(database_url, make_user, app):
    """The check above can fail: without the warm start, serving a page compiles its templates."""
    refuse_compiling(app)
    client = signed_in_client(app, make_user(Role.SENIOR_ADVOCATE, ""))
    with pytest.raises(AssertionError, match="compiled"):
        client.get("/")


def test_gunicorn_turns_the_warm_start_on(monkeypatch, tmp_path):
    from vat import config

    for key in ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY", "VAT_ENV", "DATABASE_URL", "VAT_WARM_START"):
        monkeypatch.delenv(key, raising=False)
    assert config.load(tmp_path, {})["VAT_WARM_START"] is False
    for given, expected in ((None, True), ("0", False), ("1", True)):
        if given is not None:
            monkeypatch.setenv("VAT_WARM_START", given)
        settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        assert os.environ.get("VAT_WARM_START") == given  # reading the file changes nothing
        for entry in settings["raw_env"]:  # as gunicorn's master does, before it loads the app
            monkeypatch.setenv(*entry.split("=", 1))
        assert config.load(tmp_path, {})["VAT_WARM_START"] is expected
        monkeypatch.delenv("VAT_WARM_START")


def test_a_gunicorn_worker_settles_what_it_loaded_and_keeps_collecting():
    """post_worker_init moves what the loaded app holds out of the collector's walks, after a
    collection; the collector stays on, and collects a cycle made afterwards."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0 and gc.isenabled()

        class Node:
            pass

        made_after = Node()
        made_after.itself = made_after  # a cycle: only the collector frees it
        gone = weakref.ref(made_after)
        del made_after
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
