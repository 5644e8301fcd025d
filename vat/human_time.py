"""Money forms sent in human time (ASVS 5.0 2.4.2): a money form refuses a submission sent sooner
than VAT_MONEY_FORM_MIN_SECONDS after the form was served (0: not checked).

When the form was served is in its key (`vat.request_keys`), so the one hidden field a money form
already carries says it: 10 hex digits of the time in hundredths of a second, 6 random ones, and 16
of an HMAC-SHA-256 under SECRET_KEY of those, the form's class and the user. An edited time, a key
minted for another form or user, a plain key or none (the form then mints one as it is submitted)
fail like a submission sent too soon: refused 422 with the form served again under a new key,
nothing saved, audited (`form.too_fast`). A repeat of a recorded submission (same key and values,
a double click or a resend after a crash) is still answered as a repeat (`KeyedForm.validate`
answers it first), and a refused form sent again once the time has passed goes through."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vat import audit
from vat.db import db
from vat.request_keys import KEY_PATTERN

TOO_FAST = _l(
    "This form was sent sooner than anyone could fill it in, so nothing was saved. "
    "Please check the form and send it again."
)
TOO_FAST_STATUS = 422
STAMP = 16  # hex digits of the time and the random part; the rest of the key is their HMAC


def served_key(form_name: str) -> str:
    """A new key for a money form served now."""
    stamp = f"{int(time.time() * 100):010x}{secrets.token_hex(3)}"
    return stamp + _signature(stamp, form_name)


def seconds_since_served(key: str, form_name: str) -> float | None:
    """How long ago the form this key came with was served; None if this server did not mint it
    for this form and user."""
    if not re.fullmatch(KEY_PATTERN, key):
        return None
    stamp, signature = key[:STAMP], key[STAMP:]
    if not hmac.compare_digest(signature, _signature(stamp, form_name)):
        return None
    return time.time() - int(stamp[:10], 16) / 100


def _signature(stamp: str, form_name: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = f"vat.human_time|{stamp}|{form_name}|{getattr(current_user, 'id', None)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[: 32 - STAMP]


class HumanTime:
    """Put before `KeyedForm` in a money form's bases: its key says when it was served, and it
    validates only if sent in human time."""

    key: Any

    def new_key(self) -> str:
        return served_key(type(self).__name__)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))  # type: ignore[misc]  # a FlaskForm's
        return in_human_time(self) and valid


def in_human_time(form: Any) -> bool:
    """Whether `form` was sent at least the minimum after it was served; if not, the refusal is
    put on its key (flashed by `submit`), the form gets a new key and the refusal is audited and
    committed at once (nothing else was done yet)."""
    minimum = current_app.config["VAT_MONEY_FORM_MIN_SECONDS"]
    if not minimum or form.key.errors:  # an expired key is refused already
        return True
    known = getattr(form, "vat_in_human_time", None)
    if known is not None:
        return bool(known)
    elapsed = seconds_since_served(str(form.key.data or ""), type(form).__name__)
    form.vat_in_human_time = elapsed is not None and elapsed >= minimum
    if not form.vat_in_human_time:
        form.key.errors = [*form.key.errors, str(TOO_FAST)]
        form.key.data = form.new_key()  # shown again: served afresh
        audit.record(
            "form.too_fast",
            actor=current_user if current_user.is_authenticated else None,
            detail={
                "endpoint": request.endpoint,
                "seconds": None if elapsed is None else round(elapsed, 2),
                "minimum": minimum,
                "forged": elapsed is None,
            },
        )
        db.session.commit()
        current_app.logger.warning("money form sent too soon: %s", request.endpoint)
    return bool(form.vat_in_human_time)


def invalid_status(form: Any) -> int:
    """The status of an invalid form shown again: 422 if it was sent too soon, else 200."""
    return TOO_FAST_STATUS if getattr(form, "vat_in_human_time", None) is False else 200
