"""VAT Ledger: victim assistance tracking and the trust fund's ledger."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. `config` overrides everything; with TESTING set, the environment
    is not read at all, so a developer's shell cannot point tests at a real database."""
    from vat import config as configuration
    from vat import logs

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(configuration.load(Path(app.instance_path), config))
    if hops := app.config["VAT_PROXY_HOPS"]:
        # Behind a reverse proxy: take the client's address and scheme from the proxy's headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    register_extensions(app)
    logs.configure(app)
    register_converters(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_commands(app)
    connect_domains()
    if app.config["VAT_WARM_START"]:
        from vat.warm_start import warm

        warm(app)
    return app


def register_extensions(app: Flask) -> None:
    from vat import i18n, jobs
    from vat.crypto import KeyRing
    from vat.db import db
    from vat.extensions import csrf, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session table does this job
    app.extensions["vat_keyring"] = KeyRing.parse(app.config["VAT_DATA_KEY"])
    jobs.init_app(app)
    i18n.init_app(app, str(ROOT / "translations"))


def register_converters(app: Flask) -> None:
    from vat.addresses import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter  # every <int:id>: ASCII digits in range


def register_blueprints(app: Flask) -> None:
    from ledger.views import bp as ledger_bp
    from vat.admin import bp as admin_bp
    from vat.allegations import cycle_rule_views, cycle_views  # noqa: F401  # the cycle's pages on allegations_bp
    from vat.allegations.views import bp as allegations_bp
    from vat.auth.views import bp as auth_bp
    from vat.claims.views import bp as claims_bp
    from vat.main import bp as main_bp
    from vat.reports.views import bp as reports_bp
    from vat.victims.views import bp as victims_bp
    from vat.victims.views.providers import bp as providers_bp

    blueprints = (main_bp, auth_bp, admin_bp, ledger_bp, victims_bp, allegations_bp, claims_bp, reports_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(providers_bp)  # the service-provider directory: not a victim's file (issue 18)


def register_request_hooks(app: Flask) -> None:
    from vat.auth.policy import enforce
    from vat.auth.views import identify
    from vat.errors import refuse_nul_characters, register_error_handlers
    from vat.headers import register_security_headers
    from vat.submission import choose_begin_mode, restore_begin_mode
    from vat.templating import register_template_helpers

    app.before_request(refuse_nul_characters)
    app.before_request(choose_begin_mode)
    app.teardown_request(restore_begin_mode)
    app.before_request(identify)
    app.before_request(enforce)
    register_security_headers(app)
    register_error_handlers(app)
    register_template_helpers(app)


def connect_domains() -> None:
    """A direct-support payment in the ledger records the assistance it paid for, and its reversal
    cancels it; a tranche's payments to victims record the money that reached each, and its
    reversal reverses them; a partner's per-beneficiary lines are recorded on each victim (ledger
    never imports victims code; it announces each, within the same transaction). An allegation's
    outcome opens a task to tell each victim named in it, the same way; and a withholding is
    refused unless its allegation is substantiated against that country."""
    from ledger.services.beneficiary_lines import beneficiaries_named, beneficiary_lines_imported
    from ledger.services.grants import (
        project_payees_named,
        project_payments_paid,
        project_payments_reversed,
    )
    from ledger.services.victim_support import direct_support_paid, direct_support_reversed
    from ledger.services.withholdings import withholding_requested
    from vat.allegations.services import check_withholding, outcome_recorded
    from vat.victims import assistance, payments
    from vat.victims.outcomes import on_outcome_recorded

    direct_support_paid.connect(_without_sender(assistance.record_trust_fund_support))
    direct_support_reversed.connect(_without_sender(assistance.cancel_trust_fund_support))
    project_payees_named.connect(_without_sender(payments.check_payees))
    beneficiaries_named.connect(_without_sender(payments.known_payees))
    beneficiary_lines_imported.connect(_without_sender(payments.record_partner_lines))
    project_payments_paid.connect(_without_sender(payments.record_project_payments))
    project_payments_reversed.connect(_without_sender(payments.reverse_payments))
    outcome_recorded.connect(on_outcome_recorded)
    withholding_requested.connect(check_withholding)


@functools.cache
def _without_sender(service: Callable[..., Any]) -> Callable[..., Any]:
    """A victims service as a receiver: blinker passes the sender first, the services take keyword
    arguments only. One receiver per service (cached), so connecting again connects nothing twice,
    and the cache keeps it alive (blinker holds receivers weakly)."""

    def receive(sender: object, **values: Any) -> Any:
        return service(**values)

    return receive


def register_commands(app: Flask) -> None:
    from vat.cli import register

    register(app)
