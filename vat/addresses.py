"""What an address may name: record ids written in ASCII digits, within the range the database
stores. A larger id, or one in other digits ("١٢"), names no record: 404 (or "none given" for a
query parameter), never an overflow inside the database driver."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite's is wider, and one limit keeps both backends alike


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits, 1 to MAX_ID, else the route does not match (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def record_id(text: str | None) -> int | None:
    """A query parameter naming a record (`?victim=12`): its id, or None when it names none."""
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
