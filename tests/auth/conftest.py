"""Fixtures of the account tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import signed_in_client
from vat.auth.models import Role


@pytest.fixture
def two_admins(app: Flask, make_user: Any) -> tuple[FlaskClient, FlaskClient]:
    """Two administrators, each signed in on a client of their own (one asks, the other approves)."""
    return signed_in_client(app, make_user(Role.ADMIN, "")), signed_in_client(app, make_user(Role.ADMIN, ""))
