"""ledger: chart of accounts, currencies, exchange rates, entries and postings (append-only,
balanced at commit on PostgreSQL), closed periods, donors, pledges, receipts, withholdings,
projects, tranches and direct support
"""
from alembic import op
import sqlalchemy as sa

from vat.db import append_only_ddl, drop_append_only_ddl

from migrations.schema import create_indexes, drop_tables


revision = '0100'
down_revision = '0001'

APPEND_ONLY = ('ledger_entry', 'ledger_posting', 'ledger_period')

# ISO 4217 code, minor-unit exponent, name.
CURRENCIES = [
    ('USD', 2, 'US dollar'), ('EUR', 2, 'Euro'), ('GBP', 2, 'Pound sterling'),
    ('JPY', 0, 'Yen'), ('CHF', 2, 'Swiss franc'), ('CAD', 2, 'Canadian dollar'),
    ('AUD', 2, 'Australian dollar'), ('NZD', 2, 'New Zealand dollar'), ('NOK', 2, 'Norwegian krone'),
    ('SEK', 2, 'Swedish krona'), ('DKK', 2, 'Danish krone'), ('KWD', 3, 'Kuwaiti dinar'),
    ('INR', 2, 'Indian rupee'), ('BDT', 2, 'Taka'), ('PKR', 2, 'Pakistan rupee'),
    ('CNY', 2, 'Yuan renminbi'), ('KRW', 0, 'Won'), ('ZAR', 2, 'Rand'),
    ('XAF', 0, 'CFA franc BEAC'), ('CDF', 2, 'Congolese franc'), ('LRD', 2, 'Liberian dollar'),
]

# code, name, type, sub-ledger it controls, residual (exchange difference / rounding)
ACCOUNTS = [
    ('1000', 'Cash at bank', 'asset', None, False),
    ('1100', 'Pledges receivable', 'asset', 'pledge', False),
    ('1200', 'Withheld amounts receivable', 'asset', 'withholding', False),
    ('2000', 'Grants payable to partners', 'liability', 'project', False),
    ('3000', 'Fund balance', 'net_assets', None, False),
    ('4000', 'Voluntary contributions', 'revenue', None, False),
    ('4100', 'Withheld payments income', 'revenue', None, False),
    ('4900', 'Realised exchange differences', 'revenue', None, True),
    ('4910', 'Currency rounding', 'revenue', None, True),
    ('5000', 'Project grants', 'expense', None, False),
    ('5100', 'Direct support to victims', 'expense', None, False),
    ('5200', 'Programme support cost', 'expense', None, False),
]

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


def upgrade():
    op.create_table('ledger_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('type', sa.String(length=12), nullable=False),
    sa.Column('controls', sa.String(length=20), nullable=True),
    sa.Column('residual', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_account_code'))
    )
    op.create_table('ledger_currency',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('exponent', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_ledger_currency'))
    )
    op.create_table('ledger_donor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('country_code', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_donor')),
    sa.UniqueConstraint('country_code', name=op.f('uq_ledger_donor_country_code')),
    sa.UniqueConstraint('name', name=op.f('uq_ledger_donor_name'))
    )
    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('maker_id', sa.Integer(), nullable=True),
    sa.Column('checker_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['checker_id'], ['auth_user.id'], name=op.f('fk_ledger_entry_checker_id_auth_user')),
    sa.ForeignKeyConstraint(['maker_id'], ['auth_user.id'], name=op.f('fk_ledger_entry_maker_id_auth_user')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_entry.id'], name=op.f('fk_ledger_entry_reverses_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
    sa.UniqueConstraint('hash', name=op.f('uq_ledger_entry_hash')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_entry_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_entry_reverses_id')),
    sa.UniqueConstraint('seq', name=op.f('uq_ledger_entry_seq'))
    )
    create_indexes('ledger_entry', 'entry_date', 'kind')

    op.create_table('ledger_fx_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_fx_rate_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['auth_user.id'], name=op.f('fk_ledger_fx_rate_recorded_by_id_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_fx_rate')),
    sa.UniqueConstraint('currency', 'month', name=op.f('uq_ledger_fx_rate_currency'))
    )
    op.create_table('ledger_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('head_seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('close_pack', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['auth_user.id'], name=op.f('fk_ledger_period_closed_by_id_auth_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_period')),
    sa.UniqueConstraint('month', name=op.f('uq_ledger_period_month'))
    )
    op.create_table('ledger_direct_support',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_code', sa.String(length=40), nullable=False),
    sa.Column('country_code', sa.String(length=3), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_direct_support_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_direct_support_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_direct_support')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_direct_support_entry_id'))
    )
    create_indexes('ledger_direct_support', 'case_code')

    op.create_table('ledger_pledge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('pledged_on', sa.Date(), nullable=False),
    sa.Column('earmark', sa.String(length=200), nullable=True),
    sa.Column('reference', sa.String(length=80), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_pledge_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['donor_id'], ['ledger_donor.id'], name=op.f('fk_ledger_pledge_donor_id_ledger_donor')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_pledge_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_pledge')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_pledge_entry_id'))
    )
    create_indexes('ledger_pledge', 'donor_id')

    op.create_table('ledger_project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('partner', sa.String(length=120), nullable=False),
    sa.Column('country_code', sa.String(length=3), nullable=False),
    sa.Column('focus', sa.String(length=30), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('approved_minor', sa.BigInteger(), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('victims_supported', sa.Integer(), nullable=False),
    sa.Column('released_minor', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_project_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_project_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_project')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_project_entry_id'))
    )
    create_indexes('ledger_project', 'country_code')

    op.create_table('ledger_withholding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('allegation_ref', sa.String(length=40), nullable=False),
    sa.Column('country_code', sa.String(length=3), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decision_reference', sa.String(length=80), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_withholding_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_withholding_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_withholding')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_withholding_entry_id'))
    )
    create_indexes('ledger_withholding', 'allegation_ref', 'country_code')

    op.create_table('ledger_posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('fx_rate_id', sa.Integer(), nullable=True),
    sa.Column('usd_minor', sa.BigInteger(), nullable=False),
    sa.Column('running_usd_minor', sa.BigInteger(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=True),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('withholding_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('country_code', sa.String(length=3), nullable=True),
    sa.Column('allegation_ref', sa.String(length=40), nullable=True),
    sa.Column('case_code', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_ledger_posting_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_posting_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['donor_id'], ['ledger_donor.id'], name=op.f('fk_ledger_posting_donor_id_ledger_donor')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_posting_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['fx_rate_id'], ['ledger_fx_rate.id'], name=op.f('fk_ledger_posting_fx_rate_id_ledger_fx_rate')),
    sa.ForeignKeyConstraint(['pledge_id'], ['ledger_pledge.id'], name=op.f('fk_ledger_posting_pledge_id_ledger_pledge')),
    sa.ForeignKeyConstraint(['project_id'], ['ledger_project.id'], name=op.f('fk_ledger_posting_project_id_ledger_project')),
    sa.ForeignKeyConstraint(['withholding_id'], ['ledger_withholding.id'], name=op.f('fk_ledger_posting_withholding_id_ledger_withholding')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_posting'))
    )
    create_indexes(
        'ledger_posting', 'account_id', 'allegation_ref', 'case_code', 'country_code', 'donor_id', 'entry_id',
        'fx_rate_id', 'pledge_id', 'project_id', 'withholding_id',
    )

    op.create_table('ledger_project_beneficiary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('case_code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['ledger_project.id'], name=op.f('fk_ledger_project_beneficiary_project_id_ledger_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_project_beneficiary')),
    sa.UniqueConstraint('project_id', 'case_code', name=op.f('uq_ledger_project_beneficiary_project_id'))
    )
    op.create_table('ledger_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('bank_reference', sa.String(length=80), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['currency'], ['ledger_currency.code'], name=op.f('fk_ledger_receipt_currency_ledger_currency')),
    sa.ForeignKeyConstraint(['donor_id'], ['ledger_donor.id'], name=op.f('fk_ledger_receipt_donor_id_ledger_donor')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_receipt_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['pledge_id'], ['ledger_pledge.id'], name=op.f('fk_ledger_receipt_pledge_id_ledger_pledge')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_receipt')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_receipt_entry_id'))
    )
    create_indexes('ledger_receipt', 'donor_id', 'pledge_id')

    op.create_table('ledger_tranche',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('maker_id', sa.Integer(), nullable=True),
    sa.Column('checker_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('psc_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['checker_id'], ['auth_user.id'], name=op.f('fk_ledger_tranche_checker_id_auth_user')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_tranche_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['maker_id'], ['auth_user.id'], name=op.f('fk_ledger_tranche_maker_id_auth_user')),
    sa.ForeignKeyConstraint(['project_id'], ['ledger_project.id'], name=op.f('fk_ledger_tranche_project_id_ledger_project')),
    sa.ForeignKeyConstraint(['psc_entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_tranche_psc_entry_id_ledger_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_tranche')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_tranche_entry_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_tranche_idempotency_key')),
    sa.UniqueConstraint('psc_entry_id', name=op.f('uq_ledger_tranche_psc_entry_id'))
    )
    create_indexes('ledger_tranche', 'project_id')

    op.create_table('ledger_withholding_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('withholding_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], name=op.f('fk_ledger_withholding_transfer_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['withholding_id'], ['ledger_withholding.id'], name=op.f('fk_ledger_withholding_transfer_withholding_id_ledger_withholding')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_withholding_transfer')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_withholding_transfer_entry_id'))
    )
    create_indexes('ledger_withholding_transfer', 'withholding_id')

    currency = sa.table('ledger_currency', sa.column('code', sa.String), sa.column('exponent', sa.Integer),
                        sa.column('name', sa.String))
    op.bulk_insert(currency, [dict(code=c, exponent=e, name=n) for c, e, n in CURRENCIES])
    account = sa.table('ledger_account', sa.column('code', sa.String), sa.column('name', sa.String),
                       sa.column('type', sa.String), sa.column('controls', sa.String),
                       sa.column('residual', sa.Boolean))
    op.bulk_insert(account, [dict(code=c, name=n, type=t, controls=s, residual=r) for c, n, t, s, r in ACCOUNTS])

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only_ddl(table, dialect):
            op.execute(statement)
    for statement in POSTGRES_FUNCTIONS if dialect == 'postgresql' else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP TRIGGER ledger_posting_balanced ON ledger_posting')
        op.execute('DROP TRIGGER ledger_entry_balanced ON ledger_entry')
        op.execute('DROP TRIGGER ledger_entry_open_period ON ledger_entry')
        op.execute('DROP TRIGGER ledger_fx_rate_frozen ON ledger_fx_rate')
        for name in ('ledger_check_entry_balanced', 'ledger_refuse_closed_period', 'ledger_refuse_used_rate'):
            op.execute(f'DROP FUNCTION {name}()')
    else:
        for name in ('ledger_entry_open_period', 'ledger_fx_rate_frozen_update', 'ledger_fx_rate_frozen_delete'):
            op.execute(f'DROP TRIGGER {name}')
    for table in APPEND_ONLY:
        for statement in drop_append_only_ddl(table, dialect):
            op.execute(statement)
    drop_tables(
        'ledger_posting', 'ledger_direct_support', 'ledger_tranche', 'ledger_project_beneficiary',
        'ledger_project', 'ledger_withholding_transfer', 'ledger_withholding', 'ledger_receipt',
        'ledger_pledge', 'ledger_period', 'ledger_fx_rate', 'ledger_entry', 'ledger_donor',
        'ledger_account', 'ledger_currency',
    )
