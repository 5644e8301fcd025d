"""baseline: the whole schema as it stood at 1073, built directly

The 26 migrations 0001 … 1073 were squashed into this one on 2026-12-05 (the product had no
deployed database below 1073). It keeps the id 1073, so a database already at 1073 carries on and
the next migration still says down_revision = "1073"; a database older than 1073 must first be
upgraded with the previous release (commit a98275d). The tables are grouped by room, each after
the rooms it refers to: foundation (users, sessions, audit), ledger, victims, allegations, claims,
reports' summaries, jobs. Names follow the models' naming convention (pk_, uq_, ix_, fk_, ck_).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from migrations.schema import (
    CLAIM_STEPS,
    CLOCK_STEPS,
    SERVICE_TYPES,
    check,
    create_indexes,
    day,
    flag,
    foreign_key,
    integer,
    key,
    minor,
    moment,
    one_of,
    string,
    unique,
)
from vat.db import append_only_ddl

revision = "1073"
down_revision = None

# --- small helpers: the shapes many tables share -------------------------------------------


def booked(table):
    """The ledger entry a record was booked by: at most one record per entry."""
    return (
        integer("entry_id", nullable=True),
        foreign_key(table, "entry_id", "ledger_entry.id"),
        unique(table, "entry_id"),
    )


def priced():
    """A currency and an amount in its minor units."""
    return string("currency", 3), minor("amount_minor")


def priced_rules(table):
    """The currency is a known one and the amount positive."""
    return (
        foreign_key(table, "currency", "ledger_currency.code"),
        check(table, "amount_positive", "amount_minor > 0"),
    )


# --- enumerations, frozen as they stand at 1073 (a migration never imports the models) -----
# (the claim steps and service types, which later migrations build on, are frozen in schema.py)

PERSONNEL_CATEGORIES = (
    "military_contingent",
    "military_expert",
    "formed_police",
    "individual_police",
    "civilian",
    "un_volunteer",
    "contractor",
    "implementing_partner",
    "non_un_force",
    "unknown",
)
SERVICE_STATUSES = ("referred", "in_progress", "completed", "declined", "not_available", "cancelled")
SEXES = ("female", "male", "unknown")
OUTCOMES = ("pending", "substantiated", "unsubstantiated")
LETTER_CHANNELS = ("permanent_mission", "note_verbale", "embassy", "email", "meeting", "other")

# --- reference rows ------------------------------------------------------------------------

# ISO 4217 code, minor-unit exponent, name.
CURRENCIES = [
    ("USD", 2, "US dollar"),
    ("EUR", 2, "Euro"),
    ("GBP", 2, "Pound sterling"),
    ("JPY", 0, "Yen"),
    ("CHF", 2, "Swiss franc"),
    ("CAD", 2, "Canadian dollar"),
    ("AUD", 2, "Australian dollar"),
    ("NZD", 2, "New Zealand dollar"),
    ("NOK", 2, "Norwegian krone"),
    ("SEK", 2, "Swedish krona"),
    ("DKK", 2, "Danish krone"),
    ("KWD", 3, "Kuwaiti dinar"),
    ("INR", 2, "Indian rupee"),
    ("BDT", 2, "Taka"),
    ("PKR", 2, "Pakistan rupee"),
    ("CNY", 2, "Yuan renminbi"),
    ("KRW", 0, "Won"),
    ("ZAR", 2, "Rand"),
    ("XAF", 0, "CFA franc BEAC"),
    ("CDF", 2, "Congolese franc"),
    ("LRD", 2, "Liberian dollar"),
]

# code, name, type, sub-ledger it controls, residual (exchange difference / rounding)
ACCOUNTS = [
    ("1000", "Cash at bank", "asset", None, False),
    ("1100", "Pledges receivable", "asset", "pledge", False),
    ("1200", "Withheld amounts receivable", "asset", "withholding", False),
    ("2000", "Grants payable to partners", "liability", "project", False),
    ("3000", "Fund balance", "net_assets", None, False),
    ("4000", "Voluntary contributions", "revenue", None, False),
    ("4100", "Withheld payments income", "revenue", None, False),
    ("4900", "Realised exchange differences", "revenue", None, True),
    ("4910", "Currency rounding", "revenue", None, True),
    ("5000", "Project grants", "expense", None, False),
    ("5100", "Direct support to victims", "expense", None, False),
    ("5200", "Programme support cost", "expense", None, False),
]

# The allegation clock, seeded with the limits of OIOS §72: step, position, starts from, amount,
# unit, reduced amount, reduced when, applies to.
CLOCK_RULES = [
    ("assessed", 1, "received", 7, "days", None, None, ""),
    ("referred", 2, "assessed", 3, "days", None, None, ""),
    ("nio_decision", 3, "referred", 10, "days", 5, "urgent", "military_contingent"),
    ("investigation_completed", 4, "referred", 6, "months", 3, "high_priority", ""),
    ("report_submitted", 5, "investigation_completed", 15, "days", None, None, ""),
]

# --- database rules the models cannot declare ----------------------------------------------

APPEND_ONLY = ("audit_event", "ledger_entry", "ledger_posting", "ledger_period")

POSTGRES_FUNCTIONS = [
    # Each entry balances in every currency and in US dollars, with at least two lines: checked
    # at COMMIT, so raw SQL cannot book an unbalanced entry either.
    """CREATE OR REPLACE FUNCTION ledger_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        target integer;
        line_count integer;
        usd_total bigint;
        unbalanced text;
    BEGIN
        IF TG_TABLE_NAME = 'ledger_entry' THEN target := NEW.id; ELSE target := NEW.entry_id; END IF;
        SELECT count(*), coalesce(sum(usd_minor), 0) INTO line_count, usd_total
            FROM ledger_posting WHERE entry_id = target;
        IF line_count < 2 THEN
            RAISE EXCEPTION 'ledger entry % has fewer than two postings', target;
        END IF;
        IF usd_total <> 0 THEN
            RAISE EXCEPTION 'ledger entry % does not balance in USD', target;
        END IF;
        SELECT min(currency) INTO unbalanced FROM (
            SELECT currency FROM ledger_posting WHERE entry_id = target
            GROUP BY currency HAVING sum(amount_minor) <> 0) AS t;
        IF unbalanced IS NOT NULL THEN
            RAISE EXCEPTION 'ledger entry % does not balance in %', target, unbalanced;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_period
                   WHERE month = date_trunc('month', NEW.entry_date)::date) THEN
            RAISE EXCEPTION 'ledger period % is closed', to_char(NEW.entry_date, 'YYYY-MM');
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION ledger_refuse_used_rate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_posting WHERE fx_rate_id = OLD.id) THEN
            RAISE EXCEPTION 'exchange rate % is frozen: postings use it', OLD.id;
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    "CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()",
    "CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced()",
    "CREATE TRIGGER ledger_entry_open_period BEFORE INSERT ON ledger_entry "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_closed_period()",
    "CREATE TRIGGER ledger_fx_rate_frozen BEFORE UPDATE OR DELETE ON ledger_fx_rate "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_used_rate()",
]

# SQLite checks balance in the posting engine; it refuses closed periods and used rates here.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER ledger_entry_open_period BEFORE INSERT ON ledger_entry "
    "WHEN EXISTS (SELECT 1 FROM ledger_period WHERE month = date(NEW.entry_date, 'start of month')) "
    "BEGIN SELECT RAISE(ABORT, 'ledger period is closed'); END",
    "CREATE TRIGGER ledger_fx_rate_frozen_update BEFORE UPDATE ON ledger_fx_rate "
    "WHEN EXISTS (SELECT 1 FROM ledger_posting WHERE fx_rate_id = OLD.id) "
    "BEGIN SELECT RAISE(ABORT, 'exchange rate is frozen: postings use it'); END",
    "CREATE TRIGGER ledger_fx_rate_frozen_delete BEFORE DELETE ON ledger_fx_rate "
    "WHEN EXISTS (SELECT 1 FROM ledger_posting WHERE fx_rate_id = OLD.id) "
    "BEGIN SELECT RAISE(ABORT, 'exchange rate is frozen: postings use it'); END",
]

# A ledger_balance row adds up one account, month and currency, per these dimensions.
BALANCE_DIMENSIONS = ("donor_id", "pledge_id", "project_id", "country_code", "allegation_ref", "case_code")

POSTGRES_FUNCTION_NAMES = (
    "ledger_check_entry_balanced",
    "ledger_refuse_closed_period",
    "ledger_refuse_used_rate",
    "vat_refuse_change",
)


def upgrade():
    _foundation()
    _ledger()
    _victims()
    _allegations()
    _claims()
    _summaries()
    _jobs()
    _reference_rows()
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only_ddl(table, dialect):
            op.execute(statement)
    for statement in POSTGRES_FUNCTIONS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    """Back to an empty database: every table (its triggers go with it), then the functions."""
    bind = op.get_bind()
    tables = sa.MetaData()
    tables.reflect(bind)
    tables.drop_all(bind, tables=[t for t in tables.sorted_tables if t.name != "alembic_version"])
    if bind.dialect.name == "postgresql":
        for name in POSTGRES_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {name}()")


def _foundation():
    """Users and their scopes, sessions, the second factor, login throttling, break-glass, the
    chained audit log, and the keys of submitted forms."""
    op.create_table(
        "auth_login_throttle",
        string("key", 200),
        integer("failures"),
        moment("window_started_at"),
        moment("locked_until", nullable=True),
        key("auth_login_throttle", "key"),
    )
    op.create_table(
        "auth_user",
        integer("id"),
        string("username", 64),
        string("password_hash", 200),
        string("role", 20),
        flag("active"),
        string("totp_secret", nullable=True),
        integer("totp_last_timecode"),
        string("language", 8, nullable=True),
        moment("created_at"),
        moment("password_changed_at"),
        string("time_zone", 64, nullable=True),
        integer("totp_failures", server_default="0"),
        moment("locked_at", nullable=True),
        one_of("auth_user", "role", ("advocate", "senior_advocate", "fund_manager", "auditor", "admin")),
        key("auth_user"),
        unique("auth_user", "username"),
    )
    op.create_table(
        "audit_event",
        integer("id"),
        moment("at"),
        integer("actor_id", nullable=True),
        string("actor_name", 64),
        string("action", 60),
        string("object_type", 40, nullable=True),
        string("object_id", 64, nullable=True),
        string("country_code", 3, nullable=True),
        string("address", 64, nullable=True),
        string("detail"),
        string("prev_hash", 64),
        string("hash", 64),
        foreign_key("audit_event", "actor_id", "auth_user.id"),
        key("audit_event"),
        unique("audit_event", "hash"),
    )
    create_indexes("audit_event", "action", "actor_id", "country_code")

    op.create_table(
        "auth_break_glass",
        integer("id"),
        integer("user_id"),
        string("record_type", 40),
        integer("record_id"),
        string("reason"),  # encrypted
        moment("created_at"),
        moment("expires_at"),
        integer("acknowledged_by_id", nullable=True),
        moment("acknowledged_at", nullable=True),
        foreign_key("auth_break_glass", "user_id", "auth_user.id"),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["auth_user.id"], name="fk_break_glass_acknowledged_by"
        ),
        key("auth_break_glass"),
    )
    create_indexes("auth_break_glass", "user_id")

    op.create_table(
        "auth_session",
        integer("id"),
        string("token_hash", 64),
        integer("user_id"),
        moment("created_at"),
        moment("last_seen_at"),
        moment("authenticated_at"),
        string("address", 64, nullable=True),
        moment("ended_at", nullable=True),
        string("user_agent", 200, nullable=True),
        foreign_key("auth_session", "user_id", "auth_user.id", ondelete="CASCADE"),
        key("auth_session"),
        unique("auth_session", "token_hash"),
    )
    create_indexes("auth_session", "user_id")

    op.create_table(
        "auth_user_scope",
        integer("id"),
        integer("user_id"),
        string("country_code", 3),
        string("mission", 40, nullable=True),
        foreign_key("auth_user_scope", "user_id", "auth_user.id", ondelete="CASCADE"),
        key("auth_user_scope"),
        unique("auth_user_scope", "user_id", "country_code", "mission"),
    )
    op.create_table(
        "auth_totp_enrolment",
        integer("user_id"),
        string("secret"),  # encrypted
        moment("created_at"),
        foreign_key("auth_totp_enrolment", "user_id", "auth_user.id", ondelete="CASCADE"),
        key("auth_totp_enrolment", "user_id"),
    )
    op.create_table(
        "vat_request_key",
        string("key", 64),
        string("endpoint", 120),
        integer("user_id", nullable=True),
        string("request_hash", 64),
        string("record", 80, nullable=True),
        string("target", 500, nullable=True),
        moment("created_at"),
        foreign_key("vat_request_key", "user_id", "auth_user.id"),
        key("vat_request_key", "key"),
    )


def _ledger():
    """Chart of accounts, currencies and rates, the journal (entries and postings), periods,
    contributions, withholdings, projects and their tranches, direct support, the balances the
    engine keeps, and outflows under the four-eyes policy."""
    op.create_table(
        "ledger_account",
        integer("id"),
        string("code", 10),
        string("name", 80),
        string("type", 12),
        string("controls", 20, nullable=True),
        flag("residual"),
        one_of("ledger_account", "controls", ("pledge", "withholding", "project")),
        one_of("ledger_account", "type", ("asset", "liability", "net_assets", "revenue", "expense")),
        key("ledger_account"),
        unique("ledger_account", "code"),
    )
    op.create_table(
        "ledger_currency",
        string("code", 3),
        integer("exponent"),
        string("name", 60),
        key("ledger_currency", "code"),
    )
    op.create_table(
        "ledger_donor",
        integer("id"),
        string("name", 120),
        string("kind", 20),
        string("country_code", 3, nullable=True),
        moment("created_at"),
        one_of("ledger_donor", "kind", ("member_state", "other")),
        key("ledger_donor"),
        unique("ledger_donor", "country_code"),
        unique("ledger_donor", "name"),
    )
    op.create_table(
        "ledger_entry",
        integer("id"),
        integer("seq"),
        day("entry_date"),
        string("kind", 30),
        string("memo", 300),
        string("idempotency_key", 80),
        string("request_hash", 64),
        integer("reverses_id", nullable=True),
        integer("maker_id", nullable=True),
        integer("checker_id", nullable=True),
        moment("created_at"),
        string("prev_hash", 64),
        string("hash", 64),
        foreign_key("ledger_entry", "checker_id", "auth_user.id"),
        foreign_key("ledger_entry", "maker_id", "auth_user.id"),
        foreign_key("ledger_entry", "reverses_id", "ledger_entry.id"),
        key("ledger_entry"),
        unique("ledger_entry", "hash"),
        unique("ledger_entry", "idempotency_key"),
        unique("ledger_entry", "reverses_id"),
        unique("ledger_entry", "seq"),
    )
    create_indexes("ledger_entry", "entry_date", "kind")

    op.create_table(
        "ledger_fx_rate",
        integer("id"),
        string("currency", 3),
        day("month"),
        minor("rate"),  # units per US dollar, times 10^8
        string("source", 120),
        integer("recorded_by_id", nullable=True),
        moment("recorded_at"),
        # Rates recorded before the four-eyes rule (1021) stayed in effect: hence the default.
        flag("confirmed", server_default=sa.true()),
        integer("confirmed_by_id", nullable=True),
        moment("confirmed_at", nullable=True),
        string("reason", 300, nullable=True),
        foreign_key("ledger_fx_rate", "currency", "ledger_currency.code"),
        foreign_key("ledger_fx_rate", "recorded_by_id", "auth_user.id"),
        foreign_key("ledger_fx_rate", "confirmed_by_id", "auth_user.id"),
        key("ledger_fx_rate"),
        unique("ledger_fx_rate", "currency", "month"),
    )
    op.create_table(
        "ledger_period",
        integer("id"),
        day("month"),
        moment("closed_at"),
        integer("closed_by_id", nullable=True),
        integer("head_seq"),
        string("head_hash", 64),
        string("close_pack"),
        foreign_key("ledger_period", "closed_by_id", "auth_user.id"),
        key("ledger_period"),
        unique("ledger_period", "month"),
    )
    op.create_table(
        "ledger_direct_support",
        integer("id"),
        string("case_code", 40),
        string("country_code", 3, nullable=True),
        string("purpose", 200),
        *priced(),
        day("paid_on"),
        *booked("ledger_direct_support"),
        *priced_rules("ledger_direct_support"),
        key("ledger_direct_support"),
    )
    create_indexes("ledger_direct_support", "case_code")
    op.create_index("ix_ledger_direct_support_paid_on_id", "ledger_direct_support", ["paid_on", "id"])

    op.create_table(
        "ledger_pledge",
        integer("id"),
        integer("donor_id"),
        *priced(),
        day("pledged_on"),
        string("earmark", 200, nullable=True),
        string("reference", 80, nullable=True),
        *booked("ledger_pledge"),
        *priced_rules("ledger_pledge"),
        foreign_key("ledger_pledge", "donor_id", "ledger_donor.id"),
        key("ledger_pledge"),
    )
    create_indexes("ledger_pledge", "donor_id")

    op.create_table(
        "ledger_project",
        integer("id"),
        string("title", 200),
        string("partner", 120),
        string("country_code", 3),
        string("focus", 30),
        string("currency", 3),
        minor("approved_minor"),
        day("approved_on"),
        day("planned_start"),
        day("planned_end"),
        day("actual_start", nullable=True),
        day("actual_end", nullable=True),
        string("status", 20),
        integer("victims_supported"),
        minor("released_minor"),
        *booked("ledger_project"),
        foreign_key("ledger_project", "currency", "ledger_currency.code"),
        one_of(
            "ledger_project",
            "focus",
            ("direct_support", "services", "income_generation", "outreach", "education"),
        ),
        one_of("ledger_project", "status", ("approved", "ongoing", "completed", "cancelled")),
        check("ledger_project", "approved_positive", "approved_minor > 0"),
        check("ledger_project", "released_not_negative", "released_minor >= 0"),
        key("ledger_project"),
    )
    create_indexes("ledger_project", "country_code")

    op.create_table(
        "ledger_withholding",
        integer("id"),
        string("allegation_ref", 40),
        string("country_code", 3),
        *priced(),
        day("decided_on"),
        string("decision_reference", 80, nullable=True),
        *booked("ledger_withholding"),
        string("mission", 40, nullable=True),
        *priced_rules("ledger_withholding"),
        key("ledger_withholding"),
    )
    create_indexes("ledger_withholding", "allegation_ref", "country_code")

    dimensions = ("donor_id", "pledge_id", "withholding_id", "project_id")
    op.create_table(
        "ledger_posting",
        integer("id"),
        integer("entry_id"),
        integer("account_id"),
        string("currency", 3),
        minor("amount_minor"),
        minor("rate"),
        integer("fx_rate_id", nullable=True),
        minor("usd_minor"),
        minor("running_usd_minor"),
        *[integer(column, nullable=True) for column in dimensions],
        string("country_code", 3, nullable=True),
        string("allegation_ref", 40, nullable=True),
        string("case_code", 40, nullable=True),
        foreign_key("ledger_posting", "account_id", "ledger_account.id"),
        foreign_key("ledger_posting", "currency", "ledger_currency.code"),
        foreign_key("ledger_posting", "donor_id", "ledger_donor.id"),
        foreign_key("ledger_posting", "entry_id", "ledger_entry.id"),
        foreign_key("ledger_posting", "fx_rate_id", "ledger_fx_rate.id"),
        foreign_key("ledger_posting", "pledge_id", "ledger_pledge.id"),
        foreign_key("ledger_posting", "project_id", "ledger_project.id"),
        foreign_key("ledger_posting", "withholding_id", "ledger_withholding.id"),
        key("ledger_posting"),
    )
    create_indexes(
        "ledger_posting",
        "allegation_ref",
        "case_code",
        "country_code",
        "entry_id",
        "fx_rate_id",
        "pledge_id",
        "project_id",
        "withholding_id",
    )
    # An account's latest posting (its running balance) in one probe; a donor's figures from
    # the index alone. Each serves the lookups a single-column index would.
    op.create_index("ix_ledger_posting_account_id_id", "ledger_posting", ["account_id", "id"])
    op.create_index(
        "ix_ledger_posting_donor_id_figures",
        "ledger_posting",
        ["donor_id", "account_id", "entry_id", "usd_minor"],
    )

    op.create_table(
        "ledger_project_beneficiary",
        integer("id"),
        integer("project_id"),
        string("case_code", 40),
        foreign_key("ledger_project_beneficiary", "project_id", "ledger_project.id"),
        key("ledger_project_beneficiary"),
        unique("ledger_project_beneficiary", "project_id", "case_code"),
    )
    op.create_table(
        "ledger_receipt",
        integer("id"),
        integer("donor_id"),
        integer("pledge_id", nullable=True),
        *priced(),
        day("received_on"),
        string("bank_reference", 80),
        minor("rate"),
        *booked("ledger_receipt"),
        *priced_rules("ledger_receipt"),
        foreign_key("ledger_receipt", "donor_id", "ledger_donor.id"),
        foreign_key("ledger_receipt", "pledge_id", "ledger_pledge.id"),
        key("ledger_receipt"),
    )
    create_indexes("ledger_receipt", "donor_id", "pledge_id")

    op.create_table(
        "ledger_tranche",
        integer("id"),
        integer("project_id"),
        minor("amount_minor"),
        day("paid_on"),
        string("reference", 80),
        string("idempotency_key", 80),
        string("request_hash", 64),
        string("status", 20),
        integer("maker_id", nullable=True),
        integer("checker_id", nullable=True),
        moment("requested_at"),
        moment("decided_at", nullable=True),
        *booked("ledger_tranche"),
        integer("psc_entry_id", nullable=True),
        foreign_key("ledger_tranche", "checker_id", "auth_user.id"),
        foreign_key("ledger_tranche", "maker_id", "auth_user.id"),
        foreign_key("ledger_tranche", "project_id", "ledger_project.id"),
        foreign_key("ledger_tranche", "psc_entry_id", "ledger_entry.id"),
        one_of("ledger_tranche", "status", ("pending", "posted", "rejected", "reversed")),
        check("ledger_tranche", "amount_positive", "amount_minor > 0"),
        key("ledger_tranche"),
        unique("ledger_tranche", "idempotency_key"),
        unique("ledger_tranche", "psc_entry_id"),
    )
    create_indexes("ledger_tranche", "project_id")

    op.create_table(
        "ledger_withholding_transfer",
        integer("id"),
        integer("withholding_id"),
        minor("amount_minor"),
        day("transferred_on"),
        string("reference", 80),
        *booked("ledger_withholding_transfer"),
        foreign_key("ledger_withholding_transfer", "withholding_id", "ledger_withholding.id"),
        check("ledger_withholding_transfer", "amount_positive", "amount_minor > 0"),
        key("ledger_withholding_transfer"),
    )
    create_indexes("ledger_withholding_transfer", "withholding_id")

    op.create_table(
        "ledger_project_payment",
        integer("id"),
        integer("tranche_id"),
        integer("project_id"),
        string("case_code", 40),
        minor("amount_minor"),
        minor("usd_minor"),
        integer("entry_id", nullable=True),
        check("ledger_project_payment", "amount_positive", "amount_minor > 0"),
        check("ledger_project_payment", "usd_not_negative", "usd_minor >= 0"),
        foreign_key("ledger_project_payment", "entry_id", "ledger_entry.id"),
        foreign_key("ledger_project_payment", "project_id", "ledger_project.id"),
        foreign_key("ledger_project_payment", "tranche_id", "ledger_tranche.id"),
        key("ledger_project_payment"),
        unique("ledger_project_payment", "tranche_id", "case_code"),
    )
    create_indexes("ledger_project_payment", "tranche_id", "project_id", "case_code", "entry_id")

    # One row per account, month, currency and dimensions (an absent one is 0 or '', so that the
    # upsert's conflict target matches it); `detail` false marks the fund-wide total rows.
    op.create_table(
        "ledger_balance",
        integer("id"),
        integer("account_id"),
        day("month"),
        string("currency", 3),
        integer("donor_id"),
        integer("pledge_id"),
        integer("project_id"),
        string("country_code", 3),
        string("allegation_ref", 40),
        string("case_code", 40),
        minor("amount_minor"),
        minor("usd_minor"),
        minor("usd_debit_minor"),
        integer("postings"),
        flag("detail"),
        foreign_key("ledger_balance", "account_id", "ledger_account.id"),
        foreign_key("ledger_balance", "currency", "ledger_currency.code"),
        key("ledger_balance"),
        unique("ledger_balance", "detail", "account_id", "month", "currency", *BALANCE_DIMENSIONS),
    )
    op.create_index("ix_ledger_balance_project_id", "ledger_balance", ["project_id", "account_id"])

    op.create_table(
        "ledger_outflow",
        integer("id"),
        string("kind", 20),
        string("status", 20),
        string("idempotency_key", 80),
        string("request_hash", 64),
        minor("usd_minor"),
        day("value_date"),
        integer("project_id", nullable=True),
        string("case_code", 40, nullable=True),
        string("payee", 200),
        integer("record_id"),
        string("held_because", 20, nullable=True),
        string("reason", 300, nullable=True),
        string("decision_note", 300, nullable=True),
        integer("maker_id"),
        integer("checker_id", nullable=True),
        moment("requested_at"),
        moment("decided_at", nullable=True),
        integer("entry_id", nullable=True),
        one_of("ledger_outflow", "kind", ("tranche", "direct_support", "reversal")),
        one_of("ledger_outflow", "status", ("pending", "posted", "rejected")),
        check("ledger_outflow", "usd_not_negative", "usd_minor >= 0"),
        foreign_key("ledger_outflow", "project_id", "ledger_project.id"),
        foreign_key("ledger_outflow", "maker_id", "auth_user.id"),
        foreign_key("ledger_outflow", "checker_id", "auth_user.id"),
        foreign_key("ledger_outflow", "entry_id", "ledger_entry.id"),
        key("ledger_outflow"),
        unique("ledger_outflow", "idempotency_key"),
        unique("ledger_outflow", "entry_id"),
    )
    create_indexes(
        "ledger_outflow", "status", "value_date", "project_id", "case_code", "payee", "requested_at"
    )


def _victim_table(table, *elements, ondelete="CASCADE"):
    """A table of rows that belong to one victim and go with them."""
    op.create_table(
        table,
        integer("id"),
        integer("victim_id"),
        *elements,
        foreign_key(table, "victim_id", "vat_victim.id", ondelete=ondelete),
        key(table),
    )


def _recorded_by(table):
    """The user who recorded a row (kept when the user is removed)."""
    return integer("recorded_by_id", nullable=True), foreign_key(table, "recorded_by_id", "auth_user.id")


def _victims():
    """Victims (identity fields encrypted), their name keys, consents and disclosures, services,
    children and communications."""
    op.create_table(
        "vat_case_counter",
        string("prefix", 12),
        integer("year"),
        integer("last"),
        key("vat_case_counter", "prefix", "year"),
    )
    op.create_table(
        "vat_victim",
        integer("id"),
        string("case_code", 40),
        string("country_code", 3),
        string("mission", 40, nullable=True),
        integer("advocate_id", nullable=True),
        string("status", 20),
        string("sex", 10),
        string("age_group", 10),
        day("registered_on"),
        day("last_update_on", nullable=True),
        day("next_update_due", nullable=True),
        moment("created_at"),
        moment("updated_at"),
        *[
            string(field, nullable=True)
            for field in ("name", "aliases", "date_of_birth", "contact", "location", "notes")
        ],
        foreign_key("vat_victim", "advocate_id", "auth_user.id"),
        one_of("vat_victim", "age_group", ("adult", "minor", "unknown")),
        one_of("vat_victim", "sex", SEXES),
        one_of("vat_victim", "status", ("active", "closed", "lost_contact")),
        key("vat_victim"),
        unique("vat_victim", "case_code"),
    )
    create_indexes("vat_victim", "country_code", "last_update_on", "status")
    # The list pages and counts read these alone; an advocate's victims in case-code order.
    op.create_index(
        "ix_vat_victim_listing",
        "vat_victim",
        ["registered_on", "id", "status", "country_code", "mission", "advocate_id"],
    )
    op.create_index("ix_vat_victim_scope", "vat_victim", ["status", "country_code", "mission", "advocate_id"])
    op.create_index("ix_vat_victim_advocate_id_case_code", "vat_victim", ["advocate_id", "case_code"])

    op.create_table(
        "vat_victim_name_key",
        integer("id"),
        integer("victim_id"),
        string("digest", 64),
        foreign_key("vat_victim_name_key", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        key("vat_victim_name_key"),
        unique("vat_victim_name_key", "victim_id", "digest"),
    )
    create_indexes("vat_victim_name_key", "digest", "victim_id")

    op.create_table(
        "vat_assistance",
        integer("id"),
        integer("victim_id"),
        string("service_type", 20),
        string("provider", 200, nullable=True),
        day("referral_date", nullable=True),
        day("start_date", nullable=True),
        day("end_date", nullable=True),
        string("status", 20),
        minor("cost", nullable=True),
        string("currency", 3, nullable=True),
        string("funding_source", 30),
        integer("ledger_entry_id", nullable=True),
        string("notes", nullable=True),
        moment("created_at"),
        moment("updated_at"),
        string("import_key", 64, nullable=True),  # digest of the spreadsheet row imported from
        foreign_key("vat_assistance", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        one_of(
            "vat_assistance",
            "funding_source",
            ("trust_fund_project", "direct_trust_fund", "mission_budget", "agency", "petty_cash", "unknown"),
        ),
        one_of("vat_assistance", "service_type", SERVICE_TYPES),
        one_of("vat_assistance", "status", SERVICE_STATUSES),
        check("vat_assistance", "cost_not_negative", "cost >= 0"),
        key("vat_assistance"),
        unique("vat_assistance", "ledger_entry_id"),
        unique("vat_assistance", "import_key"),
    )
    # Whether a victim received assistance, from the index alone; referrals waiting, in order.
    op.create_index("ix_vat_assistance_victim_id_status", "vat_assistance", ["victim_id", "status"])
    op.create_index(
        "ix_vat_assistance_status_referral_date", "vat_assistance", ["status", "referral_date", "start_date"]
    )

    _victim_table(
        "vat_child",
        string("birth_date", nullable=True),  # encrypted
        string("sex", 10),
        string("notes", nullable=True),
        moment("created_at"),
        one_of("vat_child", "sex", SEXES),
    )
    _victim_table(
        "vat_communication",
        day("occurred_on"),
        string("channel", 20),
        string("language", 40, nullable=True),
        string("by_whom", 120),
        *_recorded_by("vat_communication"),
        flag("case_update_given"),
        day("next_update_due", nullable=True),
        string("summary", nullable=True),
        moment("created_at"),
        one_of(
            "vat_communication",
            "channel",
            ("in_person", "phone", "message", "letter", "third_party", "other"),
        ),
    )
    _victim_table(
        "vat_consent",
        string("purpose", 30),
        day("given_on"),
        string("method", 20),
        string("version", 20),
        string("recipient", 200, nullable=True),
        day("withdrawn_on", nullable=True),
        flag("superseded"),
        *_recorded_by("vat_consent"),
        moment("created_at"),
        one_of("vat_consent", "method", ("written", "verbal", "thumbprint", "guardian", "other")),
        one_of(
            "vat_consent",
            "purpose",
            (
                "services",
                "referral",
                "share_member_state",
                "paternity_disclosure",
                "dna_testing",
                "contact",
                "aggregate_reporting",
            ),
        ),
    )
    _victim_table(
        "vat_disclosure",
        string("recipient_kind", 20),
        string("recipient"),  # encrypted
        string("purpose"),  # encrypted
        day("shared_on"),
        day("cancelled_on", nullable=True),
        *_recorded_by("vat_disclosure"),
        moment("created_at"),
        one_of("vat_disclosure", "recipient_kind", ("member_state", "provider")),
    )
    create_indexes("vat_child", "victim_id")
    create_indexes("vat_communication", "victim_id")
    create_indexes("vat_consent", "victim_id")
    create_indexes("vat_disclosure", "victim_id")


def _allegations():
    """Allegations, the clock their steps run on, their victims, and the tasks they give an
    advocate (telling a victim of the outcome)."""
    op.create_table(
        "vat_allegation",
        integer("id"),
        string("reference", 40),
        string("country_code", 3),
        string("mission", 40, nullable=True),
        string("personnel_category", 30),
        string("perpetrator_country", 3, nullable=True),
        string("type", 20),
        string("sub_type", 40, nullable=True),
        string("urgency", 20),
        *[
            day(f"{step}_on", nullable=True)
            for step in CLOCK_STEPS
        ],
        string("outcome", 20),
        string("actions_taken", nullable=True),  # encrypted
        moment("created_at"),
        moment("updated_at"),
        # Imported from an old tracker: a step without a date is "not recorded", never overdue.
        flag("historical", server_default=sa.false()),
        one_of("vat_allegation", "outcome", OUTCOMES),
        one_of("vat_allegation", "personnel_category", PERSONNEL_CATEGORIES),
        one_of("vat_allegation", "type", ("exploitation", "abuse", "other", "unknown")),
        one_of("vat_allegation", "urgency", ("normal", "high_priority", "urgent")),
        key("vat_allegation"),
        unique("vat_allegation", "reference"),
    )
    create_indexes("vat_allegation", "country_code")

    op.create_table(
        "vat_clock_rule",
        string("step", 30),
        integer("position"),
        string("starts_from", 30),
        integer("amount"),
        string("unit", 10),
        integer("reduced_amount", nullable=True),
        string("reduced_from", 20, nullable=True),
        string("applies_to", 200),
        moment("updated_at"),
        key("vat_clock_rule", "step"),
    )
    op.create_table(
        "vat_victim_allegation",
        integer("id"),
        integer("victim_id"),
        integer("allegation_id"),
        moment("linked_at"),
        foreign_key("vat_victim_allegation", "allegation_id", "vat_allegation.id", ondelete="CASCADE"),
        foreign_key("vat_victim_allegation", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        key("vat_victim_allegation"),
        unique("vat_victim_allegation", "victim_id", "allegation_id"),
    )
    create_indexes("vat_victim_allegation", "allegation_id", "victim_id")

    _victim_table(
        "vat_victim_task",
        integer("allegation_id", nullable=True),
        string("kind", 30),
        string("outcome", 20, nullable=True),
        moment("created_at"),
        moment("closed_at", nullable=True),
        integer("closed_by_communication_id", nullable=True),
        foreign_key("vat_victim_task", "allegation_id", "vat_allegation.id", ondelete="CASCADE"),
        foreign_key(
            "vat_victim_task", "closed_by_communication_id", "vat_communication.id", ondelete="SET NULL"
        ),
        one_of("vat_victim_task", "outcome", OUTCOMES),
    )
    create_indexes("vat_victim_task", "victim_id")
    op.create_index("ix_vat_victim_task_open", "vat_victim_task", ["closed_at", "created_at"])


def _claim_table(table, *elements, stamp="created_at"):
    """A table of rows that belong to one claim and go with it, each with who recorded it and
    when."""
    op.create_table(
        table,
        integer("id"),
        integer("claim_id"),
        *elements,
        *_recorded_by(table),
        moment(stamp),
        foreign_key(table, "claim_id", "vat_claim.id", ondelete="CASCADE"),
        key(table),
    )
    create_indexes(table, "claim_id")


def _claims():
    """Paternity and child-support claims, their children, steps, member-state letters, orders
    and payments."""
    op.create_table(
        "vat_claim",
        integer("id"),
        integer("victim_id"),
        integer("allegation_id", nullable=True),
        integer("share_consent_id", nullable=True),
        string("member_state", 3),
        string("father_nationality", 3, nullable=True),
        string("father_category", 30),
        string("step", 30),
        day("step_on"),
        day("step_recorded_on"),
        day("opened_on"),
        string("closing_reason", 20, nullable=True),
        string("step_before_close", 30, nullable=True),
        string("referral_channel", 30, nullable=True),
        string("referral_reference", 100, nullable=True),
        day("referred_on", nullable=True),
        day("dna_requested_on", nullable=True),
        day("mother_child_sampled_on", nullable=True),
        day("father_sampled_on", nullable=True),
        string("dna_result", 20, nullable=True),
        day("dna_result_on", nullable=True),
        string("paternity_basis", 20, nullable=True),
        day("paternity_established_on", nullable=True),
        day("closed_on", nullable=True),
        integer("created_by_id", nullable=True),
        moment("created_at"),
        moment("updated_at"),
        *[string(field, nullable=True) for field in ("father_name", "father_service_number", "father_unit")],
        foreign_key("vat_claim", "allegation_id", "vat_allegation.id", ondelete="SET NULL"),
        foreign_key("vat_claim", "created_by_id", "auth_user.id"),
        foreign_key("vat_claim", "share_consent_id", "vat_consent.id", ondelete="SET NULL"),
        foreign_key("vat_claim", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        one_of("vat_claim", "closing_reason", ("resolved", "unresolved", "withdrawn", "father_excluded")),
        one_of("vat_claim", "dna_result", ("match", "exclusion", "inconclusive")),
        one_of("vat_claim", "father_category", PERSONNEL_CATEGORIES),
        one_of("vat_claim", "paternity_basis", ("court_decision", "acknowledgment")),
        one_of("vat_claim", "step", CLAIM_STEPS),
        one_of("vat_claim", "step_before_close", CLAIM_STEPS),
        one_of("vat_claim", "referral_channel", LETTER_CHANNELS),
        key("vat_claim"),
    )
    create_indexes("vat_claim", "member_state", "opened_on", "step", "victim_id")

    op.create_table(
        "vat_claim_child",
        integer("claim_id"),
        integer("child_id"),
        foreign_key("vat_claim_child", "child_id", "vat_child.id", ondelete="CASCADE"),
        foreign_key("vat_claim_child", "claim_id", "vat_claim.id", ondelete="CASCADE"),
        key("vat_claim_child", "claim_id", "child_id"),
    )
    _claim_table(
        "vat_claim_event",
        string("from_step", 30, nullable=True),
        string("to_step", 30),
        day("occurred_on"),
        string("kind", 20),
        string("note", 200, nullable=True),
        one_of("vat_claim_event", "from_step", CLAIM_STEPS),
        one_of("vat_claim_event", "kind", ("step", "reopen")),
        one_of("vat_claim_event", "to_step", CLAIM_STEPS),
        stamp="recorded_at",
    )
    _claim_table(
        "vat_claim_letter",
        string("direction", 10),
        day("dated_on"),
        string("channel", 30),
        string("reference", 100, nullable=True),
        string("summary", nullable=True),
        one_of("vat_claim_letter", "channel", LETTER_CHANNELS),
        one_of("vat_claim_letter", "direction", ("sent", "received")),
    )
    _claim_table(
        "vat_claim_order",
        day("ordered_on"),
        minor("amount"),  # in its currency's minor units
        string("currency", 3),
        string("frequency", 20),
        day("starts_on"),
        day("ends_on", nullable=True),
        one_of("vat_claim_order", "frequency", ("monthly", "quarterly", "yearly", "once")),
        check("vat_claim_order", "amount_positive", "amount > 0"),
    )
    _claim_table(
        "vat_claim_payment",
        minor("amount"),  # in its currency's minor units
        string("currency", 3),
        day("received_on"),
        string("route", 30),
        string("reference", 100, nullable=True),
        string("token", 64, nullable=True),
        one_of(
            "vat_claim_payment",
            "route",
            ("bank_transfer", "mobile_money", "through_mission", "through_member_state", "cash", "other"),
        ),
        check("vat_claim_payment", "amount_positive", "amount > 0"),
        unique("vat_claim_payment", "token"),
    )


def _summaries():
    """What the reports read instead of adding everything up: the fund's money that reached each
    victim, and per victim services by status and type, money by source, and whether supported."""
    _victim_table(
        "vat_fund_payment",
        string("source", 10),
        integer("ledger_entry_id"),
        integer("project_id", nullable=True),
        string("currency", 3),
        minor("amount_minor"),
        minor("usd_minor"),
        day("paid_on"),
        flag("reversed"),
        moment("created_at"),
        check("vat_fund_payment", "amount_positive", "amount_minor > 0"),
        check("vat_fund_payment", "usd_not_negative", "usd_minor >= 0"),
        one_of("vat_fund_payment", "source", ("direct", "project")),
        unique("vat_fund_payment", "ledger_entry_id", "victim_id"),
    )
    create_indexes("vat_fund_payment", "victim_id", "ledger_entry_id")

    op.create_table(
        "vat_victim_support_summary",
        integer("victim_id"),
        *[integer(f"status_{status}") for status in SERVICE_STATUSES],
        *[integer(f"type_{kind}") for kind in SERVICE_TYPES],
        minor("direct_usd_minor"),
        minor("project_usd_minor"),
        integer("projects"),
        flag("supported"),
        moment("updated_at"),
        foreign_key("vat_victim_support_summary", "victim_id", "vat_victim.id", ondelete="CASCADE"),
        key("vat_victim_support_summary", "victim_id"),
    )
    create_indexes("vat_victim_support_summary", "supported")


def _jobs():
    """Long work run by the worker, and how far each job has got (no parameters, no identity)."""
    op.create_table(
        "job",
        string("id", 32),
        string("kind", 40),
        integer("owner_id", nullable=True),
        string("state", 10),
        integer("rows_done"),
        integer("rows_total", nullable=True),
        moment("created_at"),
        moment("heartbeat_at", nullable=True),
        moment("finished_at", nullable=True),
        string("result_path", 64, nullable=True),
        string("error", 200, nullable=True),
        one_of("job", "state", ("queued", "running", "finished", "failed")),
        foreign_key("job", "owner_id", "auth_user.id"),
        key("job"),
    )
    create_indexes("job", "owner_id")


def _reference_rows():
    currency = sa.table("ledger_currency", *(sa.column(name) for name in ("code", "exponent", "name")))
    op.bulk_insert(
        currency, [dict(zip(("code", "exponent", "name"), row, strict=True)) for row in CURRENCIES]
    )
    names = ("code", "name", "type", "controls", "residual")
    account = sa.table("ledger_account", *(sa.column(name) for name in names))
    op.bulk_insert(account, [dict(zip(names, row, strict=True)) for row in ACCOUNTS])
    names = (
        "step",
        "position",
        "starts_from",
        "amount",
        "unit",
        "reduced_amount",
        "reduced_from",
        "applies_to",
    )
    rules = sa.table(
        "vat_clock_rule",
        *(sa.column(name) for name in names),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(rules, [{**dict(zip(names, row, strict=True)), "updated_at": now} for row in CLOCK_RULES])
