"""gunicorn's settings for VAT Ledger: `gunicorn -c gunicorn.conf.py wsgi:app` (gunicorn also reads
this file by itself when started from the repository; options on the command line win).

A request's waits are bounded by the app, which answers 503 "nothing was saved, submit again":
on PostgreSQL by `lock_timeout` and `statement_timeout` (VAT_DB_LOCK_TIMEOUT_MS,
VAT_DB_STATEMENT_TIMEOUT_MS), on SQLite by its 5 s busy timeout. The worker timeout sits above
them with room for the rest of the request (a lock wait, then the statement, then rendering), so
gunicorn kills a worker only when something the database cannot bound hangs — and never a request
the database would have answered."""

import os

# The app's defaults (vat/config.py DEFAULTS); the environment overrides both alike.
LOCK_TIMEOUT_MS = int(os.environ.get("VAT_DB_LOCK_TIMEOUT_MS", "5000"))
STATEMENT_TIMEOUT_MS = int(os.environ.get("VAT_DB_STATEMENT_TIMEOUT_MS", "15000"))
MARGIN_SECONDS = 25

bind = os.environ.get("VAT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# 45 s by default: a 5 s lock wait, a 15 s statement, 25 s for everything else.
timeout = (LOCK_TIMEOUT_MS + STATEMENT_TIMEOUT_MS) // 1000 + MARGIN_SECONDS
graceful_timeout = 30  # a stopping worker finishes its request (and commits) before it goes
keepalive = 5  # behind a proxy on the same network
# Each worker compiles every template and loads every language before its first request
# (vat.warm_start), unless VAT_WARM_START=0. gunicorn sets raw_env in the master before it loads
# the app (with --preload too) and the workers inherit it; `-e` on the command line replaces this
# list, so add `-e VAT_WARM_START=1` there.
raw_env = [f"VAT_WARM_START={os.environ.get('VAT_WARM_START', '1')}"]


def on_starting(server: object) -> None:
    """In the master, before the app is loaded: the workers' commits leave SQLite's WAL to the
    jobs worker's checkpoints."""
    from vat.db import leave_checkpoints_to_the_worker

    leave_checkpoints_to_the_worker()


def post_worker_init(worker: object) -> None:
    """The app is loaded (and warm): what it holds for good leaves the collector's walks."""
    from vat.warm_start import settle

    settle()


# An access log, when asked for (--access-logfile, or VAT_LOG_FORMAT=json), names no query string
# (a search may hold a name), referrer (its query) or user agent, and, as the app's log, no
# address. With VAT_LOG_FORMAT=json, gunicorn's own lines and its access log (on stdout) are the
# app's JSON lines (vat.logs.GunicornJsonLogger).
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
if os.environ.get("VAT_LOG_FORMAT") == "json":
    logger_class = "vat.logs.GunicornJsonLogger"
    accesslog = "-"
