"""Who is acting: what services need to know of the signed-in user, and nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from vat.auth.models import Role


class Scope(Protocol):
    """One country, or one mission within it, that an actor works on."""

    @property
    def country_code(self) -> str: ...

    @property
    def mission(self) -> str | None: ...


class Actor(Protocol):
    """The acting user, as services see it (`vat.auth.models.User` is one)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def scopes(self) -> Sequence[Scope]: ...
