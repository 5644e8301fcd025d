"""Configuration: safe defaults, then the environment (read in the factory, never at import)."""

from __future__ import annotations

import json
import math
import os
import secrets
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from zxcvbn import zxcvbn

from vat.crypto import KeyRing, generate_key_entry

DEFAULTS: dict[str, Any] = {
    "VAT_ENV": "development",
    "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},  # no pre-ping: vat.db asks the socket
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "vat_session",
    "VAT_DEVICE_COOKIE_NAME": "vat_device",
    "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
    "VAT_SESSION_IDLE_MINUTES": 15,
    "VAT_SESSION_WARNING_SECONDS": 120,  # the warning before the idle sign-out (static/idle-warning.js)
    "VAT_SESSION_ABSOLUTE_HOURS": 12,
    "VAT_FRESH_MINUTES": 10,
    # Per account: this many failures at full speed, then a wait that starts at
    # VAT_LOGIN_DELAY_SECONDS and doubles with each failure, up to VAT_LOGIN_LOCK_MINUTES; failures
    # are forgotten VAT_LOGIN_MEMORY_HOURS after the first. A device the account signed in from
    # before (its cookie) has a count of its own. Per address: a hard limit per VAT_LOGIN_LOCK_MINUTES.
    "VAT_LOGIN_MAX_FAILURES": 5,
    "VAT_LOGIN_DELAY_SECONDS": 30,
    "VAT_LOGIN_LOCK_MINUTES": 15,
    "VAT_LOGIN_MEMORY_HOURS": 24,
    "VAT_LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    "VAT_DEVICE_COOKIE_DAYS": 90,
    # ASVS 2.4.2: each user sends the ledger at most this many money requests (bookings, approvals,
    # rates, closes, imports) in a window of this many minutes; the web only (ledger/views/blueprint.py).
    "VAT_MONEY_REQUESTS_PER_WINDOW": 60,
    "VAT_MONEY_WINDOW_MINUTES": 10,
    # ASVS 2.4.2: a money form sent sooner than this many seconds after it was served is refused
    # (vat.human_time); 0: not checked.
    "VAT_MONEY_FORM_MIN_SECONDS": 2,
    "VAT_TOTP_MAX_FAILURES": 5,  # wrong codes (since the last right one) that lock the account
    "VAT_SUPPRESSION_THRESHOLD": 5,
    "VAT_NO_UPDATE_DAYS": 90,
    # Days a closed case's identity is kept after the case (and each claim of it) was closed;
    # then two senior advocates erase it (vat.retention). DESIGN.md sets no period: ten years.
    "VAT_IDENTITY_RETENTION_DAYS": 3650,
    "VAT_INFORM_OUTCOME_DAYS": 14,  # days after an outcome is recorded to tell the victim by (SG §34)
    "TRUSTED_HOSTS": None,
    "VAT_PROXY_HOPS": 0,  # reverse proxies in front of the app whose X-Forwarded-* headers we trust
    "VAT_TIME_ZONE": "UTC",  # IANA name: times are shown in it to users who chose none
    "VAT_JOBS_REDIS_URL": None,  # redis://host:6379/0: several app servers share one queue
    "VAT_JOBS_FOLDER": None,  # the embedded queue and the jobs' files; default instance/jobs
    "VAT_JOBS_QUEUE_NAME": "vat",
    "VAT_JOBS_IMMEDIATE": False,  # run a job in the caller at once (tests)
    "VAT_JOBS_HEARTBEAT_SECONDS": 5,
    "VAT_JOBS_STALE_SECONDS": 60,  # a running job silent this long reads as interrupted
    "VAT_REQUEST_KEY_DAYS": 30,  # the worker forgets the keys of forms submitted longer ago (daily)
    # PostgreSQL: how long a request's statement waits for a lock, and runs at most, before the
    # request answers 503 "nothing was saved" (gunicorn.conf.py's worker timeout is above both).
    "VAT_DB_LOCK_TIMEOUT_MS": 5000,
    "VAT_DB_STATEMENT_TIMEOUT_MS": 15000,
    "VAT_ORGANISATION": "United Nations",  # its words are refused as passwords (vat.auth.passwords)
    # Have I Been Pwned's "SHA-1, ordered by hash" file, if downloaded: passwords in it are refused.
    "VAT_BREACHED_PASSWORDS_FILE": None,
    # A one-admin office: with one active administrator, acts on privileged accounts need no second
    # one; each is audited as single-admin and listed for an auditor (vat.auth.admin_requests).
    "VAT_SINGLE_ADMIN_OFFICE": False,
    # The application log: "text" on stderr (Flask's), or "json" lines on stdout; and a syslog
    # address (/dev/log, or host:port over UDP) that receives the same JSON lines (vat.logs).
    "VAT_LOG_FORMAT": "text",
    "VAT_LOG_SYSLOG": None,
    # An amount more than this many times the median of its kind in its currency (once that many
    # are recorded), or above its kind's ceiling in that currency ({"pledge": {"USD": "5000000"}},
    # JSON in the environment), is recorded only once confirmed (vat.plausibility).
    "VAT_UNUSUAL_AMOUNT_FACTOR": 10,
    "VAT_UNUSUAL_AMOUNT_MIN_RECORDS": 5,
    "VAT_AMOUNT_CEILINGS": {},
    # Compile every template and load every language at start, so a worker's first view of a page
    # costs what a repeat does (vat.warm_start); gunicorn.conf.py turns it on.
    "VAT_WARM_START": False,
}

# Settings also read from the environment as whole numbers.
INTEGER_ENVIRONMENT_KEYS = (
    "VAT_PROXY_HOPS",
    "VAT_DB_LOCK_TIMEOUT_MS",
    "VAT_DB_STATEMENT_TIMEOUT_MS",
    "VAT_IDENTITY_RETENTION_DAYS",
    "VAT_UNUSUAL_AMOUNT_FACTOR",
    "VAT_UNUSUAL_AMOUNT_MIN_RECORDS",
    "VAT_MONEY_REQUESTS_PER_WINDOW",
    "VAT_MONEY_WINDOW_MINUTES",
    "VAT_MONEY_FORM_MIN_SECONDS",
)

# Environment variables read at start; anything else comes from DEFAULTS or the caller.
ENVIRONMENT_KEYS = (
    "VAT_ENV",
    "VAT_ANCHOR_FILE",
    "VAT_ORGANISATION",
    "VAT_BREACHED_PASSWORDS_FILE",
    "VAT_LOG_FORMAT",
    "VAT_LOG_SYSLOG",
)
# ASVS 13.3.1: each of these may instead be read from the file that <NAME>_FILE names (a Docker or
# Kubernetes secret, a file a secrets manager's agent writes), so the value stays out of the
# environment, the process list and the deployment's files. Never echoed in a message.
SECRET_VARIABLES = ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY", "DATABASE_URL", "VAT_JOBS_REDIS_URL")
YES = ("1", "true", "yes", "on")
# Written exactly: "Production", "prod" or " production" must not quietly run as development.
ENVIRONMENTS = ("development", "production")
MIN_SECRET_LENGTH = 32
# ASVS 11.2.3: 128 bits. Both estimates of a secret's strength (secret_bits) must reach it, and
# an encryption key's bytes too (key_bits). The estimates are low for random secrets, so those
# that clear it are longer than 128 random bits: `secrets.token_urlsafe(48)` estimates over 200,
# 32 hex digits (exactly 128 random bits) at 95 to 115 and are refused; 32 random bytes estimate
# at 137 or more (200,000 draws); 32 × "a" at 0, "change-me" repeated at 45.
MIN_SECRET_BITS = 128


class ConfigurationError(RuntimeError):
    """The application must not start with this configuration."""


def load(instance_path: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Return the configuration: defaults, then the environment, then the caller's overrides."""
    config = dict(DEFAULTS)
    from_environment = overrides is None or not overrides.get("TESTING")
    if from_environment:
        config.update({k: os.environ[k] for k in ENVIRONMENT_KEYS if os.environ.get(k)})
        secrets_given = {name: environment_secret(name) for name in SECRET_VARIABLES}
        config.update({k: v for k, v in secrets_given.items() if v and k != "DATABASE_URL"})
        if secrets_given["DATABASE_URL"]:
            config["SQLALCHEMY_DATABASE_URI"] = secrets_given["DATABASE_URL"]
        if os.environ.get("TRUSTED_HOSTS"):
            config["TRUSTED_HOSTS"] = os.environ["TRUSTED_HOSTS"].split(",")
        config.update({k: int(os.environ[k]) for k in INTEGER_ENVIRONMENT_KEYS if os.environ.get(k)})
        for key in ("VAT_JOBS_FOLDER", "VAT_JOBS_QUEUE_NAME"):
            if os.environ.get(key):
                config[key] = os.environ[key]
        for key in ("VAT_SINGLE_ADMIN_OFFICE", "VAT_WARM_START"):
            if os.environ.get(key):
                config[key] = os.environ[key].strip().lower() in YES
        if os.environ.get("VAT_AMOUNT_CEILINGS"):
            config["VAT_AMOUNT_CEILINGS"] = json.loads(os.environ["VAT_AMOUNT_CEILINGS"])
        for key in ("VAT_JOBS_HEARTBEAT_SECONDS", "VAT_JOBS_STALE_SECONDS"):
            if os.environ.get(key):
                config[key] = float(os.environ[key])
    config.update(overrides or {})
    if config["VAT_ENV"] not in ENVIRONMENTS:
        raise ConfigurationError(
            f"VAT_ENV is {config['VAT_ENV']!r}: write exactly one of {', '.join(ENVIRONMENTS)}"
        )
    config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance_path / 'vat.db'}")
    config["SQLALCHEMY_DATABASE_URI"] = _with_psycopg(config["SQLALCHEMY_DATABASE_URI"])

    if config["VAT_ENV"] == "production":
        _require_production_settings(config)
        config["SESSION_COOKIE_SECURE"] = True
        config["SESSION_COOKIE_NAME"] = "__Host-vat_session"
        config["VAT_DEVICE_COOKIE_NAME"] = "__Host-vat_device"
    else:
        _fill_development_secrets(config, instance_path)
    if config["VAT_LOG_FORMAT"] not in ("text", "json"):
        raise ConfigurationError(f"VAT_LOG_FORMAT is {config['VAT_LOG_FORMAT']!r}: write text or json")
    for key in ("VAT_MONEY_REQUESTS_PER_WINDOW", "VAT_MONEY_WINDOW_MINUTES"):
        if int(config[key]) < 1:
            raise ConfigurationError(f"{key} is {config[key]!r}: write a whole number, 1 or more")
    if int(config["VAT_MONEY_FORM_MIN_SECONDS"]) < 0:
        minimum = config["VAT_MONEY_FORM_MIN_SECONDS"]
        raise ConfigurationError(f"VAT_MONEY_FORM_MIN_SECONDS is {minimum!r}: write 0 (not checked) or more")
    breached = config["VAT_BREACHED_PASSWORDS_FILE"]
    if breached and not Path(breached).is_file():
        raise ConfigurationError(f"VAT_BREACHED_PASSWORDS_FILE names no file: {breached}")
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["VAT_SESSION_ABSOLUTE_HOURS"])
    return config


def environment_secret(name: str) -> str | None:
    """`name` from the environment, or the contents of the file `<name>_FILE` names (spaces and
    line ends around it taken off). Both set, or a file that cannot be read or is empty, refuse to
    start; the message names the variable and the file, never what it holds."""
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if not file_name:
        return value or None
    if value:
        raise ConfigurationError(f"{name} and {name}_FILE are both set: keep one")
    try:
        content = Path(file_name).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{name}_FILE: cannot read {file_name} ({type(error).__name__})") from None
    if not content:
        raise ConfigurationError(f"{name}_FILE: {file_name} is empty")
    return content


def _with_psycopg(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _require_production_settings(config: dict[str, Any]) -> None:
    missing = [k for k in ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY") if not config.get(k)]
    if missing:
        raise ConfigurationError(f"production needs these set in the environment (or <NAME>_FILE): {missing}")
    for key in ("SECRET_KEY", "VAT_MAC_KEY"):
        if problem := weak_secret(config[key]):
            raise ConfigurationError(
                f"{key} {problem}: generate one with "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
    try:
        ring = KeyRing.parse(config["VAT_DATA_KEY"])
    except ValueError as error:
        raise ConfigurationError(f"VAT_DATA_KEY: {error}") from error
    for key_id, key_bytes in ring.keys.items():
        if _frequency_bits(key_bytes) < MIN_SECRET_BITS:
            raise ConfigurationError(
                f"VAT_DATA_KEY key {key_id!r} is not random (under {MIN_SECRET_BITS} bits by its bytes' "
                "frequencies): generate one with flask keys generate"
            )
    if not config.get("TRUSTED_HOSTS"):
        raise ConfigurationError("production needs TRUSTED_HOSTS (comma-separated host names)")


def secret_bits(secret: str) -> float:
    """The lesser of two estimates of a secret's entropy, in bits: its length times the entropy of
    its characters' frequencies (repeats and small alphabets score low), and zxcvbn's guess count
    (words, keyboard walks, sequences and dates score low)."""
    guesses_log10 = zxcvbn(secret[:100])["guesses_log10"]  # zxcvbn is quadratic: its first 100
    return min(_frequency_bits(secret), guesses_log10 * math.log2(10))


def _frequency_bits(secret: str | bytes) -> float:
    """Length times the entropy of the characters' (or bytes') frequencies: repeats and small
    alphabets score low; order is not seen."""
    counts = Counter(secret)
    return -sum(n * math.log2(n / len(secret)) for n in counts.values())


def weak_secret(secret: str) -> str | None:
    """Why a production secret is refused, or None."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is too short ({MIN_SECRET_LENGTH}+ random characters)"
    if secret_bits(secret) < MIN_SECRET_BITS:
        return "is too easy to guess (a default, a repeat, a word or a pattern)"
    return None


def _fill_development_secrets(config: dict[str, Any], instance_path: Path) -> None:
    """Development keeps its own random secrets in instance/secrets.json (mode 0600)."""
    missing = [k for k in ("SECRET_KEY", "VAT_DATA_KEY", "VAT_MAC_KEY") if not config.get(k)]
    if not missing:
        return
    path = instance_path / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generators = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(48),
        "VAT_DATA_KEY": generate_key_entry,
        "VAT_MAC_KEY": lambda: secrets.token_urlsafe(48),
    }
    changed = False
    for key in missing:
        if key not in stored:
            stored[key] = generators[key]()
            changed = True
        config[key] = stored[key]
    if changed:
        instance_path.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
