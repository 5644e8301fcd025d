"""A wrong password and an unknown username cost the same (ASVS 6.3.8, issue 15): both verify one
argon2id hash of the same parameters, so the time of a refusal does not tell who has an account."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import VerificationError
from argon2.profiles import get_default_parameters

from tests.conftest import PASSWORD, make_app
from vat.auth import services
from vat.auth.models import Role
from vat.db import db
from vat.errors import DomainError


@pytest.fixture
def slow_app(database_url, tmp_path):
    """The production hasher (argon2-cffi's defaults), as a real server verifies."""
    return make_app(database_url, VAT_FAST_PASSWORD_HASHING=False, VAT_JOBS_FOLDER=str(tmp_path))


def _refused(app, username: str, n: int) -> float:
    with app.test_request_context():
        started = time.perf_counter()
        with pytest.raises(DomainError):
            services.authenticate(username=username, password="not the password!!", address=f"10.0.0.{n}")
        spent = time.perf_counter() - started
        db.session.rollback()
    return spent


def test_unknown_users_and_wrong_passwords_verify_one_hash_of_the_same_cost(slow_app, monkeypatch):
    with slow_app.app_context():
        services.create_user(actor=None, username="known1", password=PASSWORD, role=Role.AUDITOR, scope="")
        db.session.commit()
    verified: list[str] = []
    real_verify = PasswordHasher.verify

    def counted(self, hash, password):
        verified.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    _refused(slow_app, "known1", 1)
    _refused(slow_app, "nobody-here", 2)
    assert len(verified) == 2, "one verification each"
    known, dummy = (extract_parameters(h) for h in verified)
    assert known == dummy == get_default_parameters(), "the same argon2id cost"
    with pytest.raises(VerificationError):
        real_verify(PasswordHasher(), verified[1], "not the password!!")


def test_a_refusal_takes_as_long_for_an_unknown_user_as_for_a_wrong_password(slow_app):
    with slow_app.app_context():
        for n in range(4):
            services.create_user(
                actor=None, username=f"known{n}", password=PASSWORD, role=Role.AUDITOR, scope=""
            )
        db.session.commit()
    wrong, unknown = [], []
    for n in range(4):  # interleaved, so load on the machine weighs on both alike
        wrong.append(_refused(slow_app, f"known{n}", 10 + n))
        unknown.append(_refused(slow_app, f"nobody{n}", 20 + n))
    known, nobody = statistics.median(wrong), statistics.median(unknown)
    # Without the dummy hash an unknown name is refused in a few milliseconds, a fraction of one
    # argon2id verification; with it both are one verification apart from small bookkeeping.
    assert nobody > known * 0.6, (known, nobody)
