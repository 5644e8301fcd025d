"""schema: CHECK constraints on enumerated columns and fixed-sign amounts; one money model

Each enumerated column (statuses, kinds, types) may hold only its enum's values, and each amount
whose sign is fixed has a CHECK saying so (approved, paid and received amounts are positive).

Victim-side amounts (assistance cost, child-support orders and payments) were stored in cents
whatever their currency. They are now stored, like the ledger's, in their currency's own minor
units (ISO 4217 exponent: JPY 0, KWD 3): amounts in the currencies that do not have two decimals
are rescaled. An amount that its currency cannot hold (XAF 12.50) stops the migration rather
than being rounded.

SQLite cannot add a constraint to a table: batch mode copies each table into a new one, with the
foreign keys switched off by env.py so that dropping the old table cascades nothing. The tables
with triggers (the append-only journal, audit log, periods and rates) are left as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "0900"
down_revision = "0800"

# ISO 4217 exponents other than 2 at the time of this migration (as in vat/money.py).
EXPONENTS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"),
        0,
    ),
    **dict.fromkeys(("XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}

# table, amount column (its currency is in `currency`)
AMOUNTS = [("vat_assistance", "cost"), ("vat_claim_order", "amount"), ("vat_claim_payment", "amount")]

# table, column, the values it may hold (CHECK named ck_<table>_<column>)
# Frozen here as they stood at this revision (a migration never imports the models' enums).
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
CLAIM_STEPS = (
    "recorded",
    "consent_obtained",
    "referred",
    "dna_requested",
    "samples_taken",
    "dna_result",
    "paternity_established",
    "support_ordered",
    "paying",
    "closed",
)

ENUMS = [
    ("auth_user", "role", ("advocate", "senior_advocate", "fund_manager", "auditor", "admin")),
    ("ledger_account", "controls", ("pledge", "withholding", "project")),
    ("ledger_account", "type", ("asset", "liability", "net_assets", "revenue", "expense")),
    ("ledger_donor", "kind", ("member_state", "other")),
    ("ledger_project", "focus", ("direct_support", "services", "income_generation", "outreach", "education")),
    ("ledger_project", "status", ("approved", "ongoing", "completed", "cancelled")),
    ("ledger_tranche", "status", ("pending", "posted", "rejected", "reversed")),
    ("vat_allegation", "outcome", ("pending", "substantiated", "unsubstantiated")),
    ("vat_allegation", "personnel_category", PERSONNEL_CATEGORIES),
    ("vat_allegation", "type", ("exploitation", "abuse", "other", "unknown")),
    ("vat_allegation", "urgency", ("normal", "high_priority", "urgent")),
    (
        "vat_assistance",
        "funding_source",
        ("trust_fund_project", "direct_trust_fund", "mission_budget", "agency", "petty_cash", "unknown"),
    ),
    (
        "vat_assistance",
        "service_type",
        (
            "medical",
            "psychosocial",
            "legal",
            "material",
            "shelter",
            "education",
            "livelihood",
            "protection",
            "other",
        ),
    ),
    (
        "vat_assistance",
        "status",
        ("referred", "in_progress", "completed", "declined", "not_available", "cancelled"),
    ),
    ("vat_child", "sex", ("female", "male", "unknown")),
    ("vat_claim", "closing_reason", ("resolved", "unresolved", "withdrawn", "father_excluded")),
    ("vat_claim", "dna_result", ("match", "exclusion", "inconclusive")),
    ("vat_claim", "father_category", PERSONNEL_CATEGORIES),
    ("vat_claim", "paternity_basis", ("court_decision", "acknowledgment")),
    ("vat_claim", "step", CLAIM_STEPS),
    ("vat_claim", "step_before_close", CLAIM_STEPS),
    ("vat_claim_event", "from_step", CLAIM_STEPS),
    ("vat_claim_event", "kind", ("step", "reopen")),
    ("vat_claim_event", "to_step", CLAIM_STEPS),
    (
        "vat_claim_letter",
        "channel",
        ("permanent_mission", "note_verbale", "embassy", "email", "meeting", "other"),
    ),
    ("vat_claim_letter", "direction", ("sent", "received")),
    ("vat_claim_order", "frequency", ("monthly", "quarterly", "yearly", "once")),
    (
        "vat_claim_payment",
        "route",
        ("bank_transfer", "mobile_money", "through_mission", "through_member_state", "cash", "other"),
    ),
    ("vat_communication", "channel", ("in_person", "phone", "message", "letter", "third_party", "other")),
    ("vat_consent", "method", ("written", "verbal", "thumbprint", "guardian", "other")),
    (
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
    ("vat_disclosure", "recipient_kind", ("member_state", "provider")),
    ("vat_victim", "age_group", ("adult", "minor", "unknown")),
    ("vat_victim", "sex", ("female", "male", "unknown")),
    ("vat_victim", "status", ("active", "closed", "lost_contact")),
]

# table, constraint, condition (CHECK named ck_<table>_<constraint>)
SIGNS = [
    ("ledger_direct_support", "amount_positive", "amount_minor > 0"),
    ("ledger_pledge", "amount_positive", "amount_minor > 0"),
    ("ledger_project", "approved_positive", "approved_minor > 0"),
    ("ledger_project", "released_not_negative", "released_minor >= 0"),
    ("ledger_receipt", "amount_positive", "amount_minor > 0"),
    ("ledger_tranche", "amount_positive", "amount_minor > 0"),
    ("ledger_withholding", "amount_positive", "amount_minor > 0"),
    ("ledger_withholding_transfer", "amount_positive", "amount_minor > 0"),
    ("vat_assistance", "cost_not_negative", "cost >= 0"),
    ("vat_claim_order", "amount_positive", "amount > 0"),
    ("vat_claim_payment", "amount_positive", "amount > 0"),
]


def _rescale(from_places, to_places):
    """Rewrite every amount stored with `from_places(currency)` decimals to `to_places(currency)`."""
    connection = op.get_bind()
    for table, column in AMOUNTS:
        for currency in EXPONENTS:
            shift = to_places(currency) - from_places(currency)
            if shift == 0:
                continue
            where = f"currency = :currency AND {column} IS NOT NULL"
            if shift > 0:
                op.execute(
                    sa.text(f"UPDATE {table} SET {column} = {column} * {10**shift} WHERE {where}").bindparams(
                        currency=currency
                    )
                )
                continue
            divisor = 10**-shift
            refused = connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {where} AND {column} % {divisor} <> 0"),
                {"currency": currency},
            ).scalar()
            if refused:
                raise RuntimeError(
                    f"{refused} {table}.{column} amounts in {currency} have more decimals than "
                    f"{currency} has ({to_places(currency)}): correct them, then migrate again."
                )
            op.execute(
                sa.text(f"UPDATE {table} SET {column} = {column} / {divisor} WHERE {where}").bindparams(
                    currency=currency
                )
            )


def _checks():
    """Each table's CHECKs: {table: [(full name, condition)]}."""
    checks = {}
    for table, column, values in ENUMS:
        listed = ", ".join(f"'{value}'" for value in values)
        checks.setdefault(table, []).append((f"ck_{table}_{column}", f"{column} IN ({listed})"))
    for table, name, condition in SIGNS:
        checks.setdefault(table, []).append((f"ck_{table}_{name}", condition))
    return checks


def upgrade():
    _rescale(lambda currency: 2, lambda currency: EXPONENTS.get(currency, 2))
    for table, checks in _checks().items():
        with op.batch_alter_table(table) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    for table, checks in _checks().items():
        with op.batch_alter_table(table) as batch_op:
            for name, _ in checks:
                batch_op.drop_constraint(op.f(name), type_="check")
    _rescale(lambda currency: EXPONENTS.get(currency, 2), lambda currency: 2)
