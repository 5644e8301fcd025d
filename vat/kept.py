"""Values that cost a scan of a large table and may be a few seconds old, kept per worker.

A list's total — 80,000 active victims in scope at 100,000 — is a count over every matching
row, whatever the page; the page's rows are not. So the total is kept for a few seconds per list
and viewer (docs/benchmarks.md) while the rows, and whether there is a next page, are always read."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")

_clock = time.monotonic  # replaced by the tests
_every_store: weakref.WeakSet[KeptValues] = weakref.WeakSet()


class KeptValues:
    """At most `max_keys` values, each recomputed once it is older than the caller's `max_age`."""

    def __init__(self, max_keys: int = 1024) -> None:
        self._values: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys
        _every_store.add(self)

    def get(self, key: Hashable, compute: Callable[[], T], *, max_age: float) -> T:
        if max_age <= 0:
            return compute()
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and _clock() - kept[0] < max_age:
            return kept[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._values[key] = (_clock(), value)
            self._values.move_to_end(key)
            while len(self._values) > self._max_keys:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def forget_all() -> None:
    """Empty every store: the next request computes afresh (the benchmarks' first, cold view)."""
    for store in list(_every_store):
        store.clear()


def list_figure(store: KeptValues, key: Hashable | None, compute: Callable[[], T]) -> T:
    """`compute()` kept in `store` under `key` for `VAT_LIST_COUNT_SECONDS` (a list's total, a
    list page's dashboard); with no key, computed every time."""
    if key is None:
        return compute()
    return store.get(key, compute, max_age=float(current_app.config["VAT_LIST_COUNT_SECONDS"]))
