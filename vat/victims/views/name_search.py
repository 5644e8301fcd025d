"""A name search held in the reader's session: the POST stores the words' blind indexes under a
random token, and the list's address carries only the token, so it can be sorted and paged
without the name ever reaching an address, a history or a server log."""

from __future__ import annotations

import secrets

from flask import session

KEY = "victim_name_search"


def remember(digests: tuple[str, ...]) -> str:
    """Hold one search (the last replaces any earlier one); the token that finds it again."""
    token = secrets.token_urlsafe(12)
    session[KEY] = {"token": token, "digests": list(digests)}
    return token


def recalled(token: str | None) -> tuple[str, ...] | None:
    """The search held under `token`, or None when the session holds no such search (another
    session's token, an earlier search, a new sign-in)."""
    held = session.get(KEY)
    if not token or not held or not secrets.compare_digest(str(held.get("token", "")), token):
        return None
    return tuple(held["digests"])
