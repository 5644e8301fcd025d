"""Medians from counts: the one definition of a report's median wait. A query groups the waits
(whole days) and counts each value once per group, in the same pass as the report's counts; the
median is then read off those counts — the middle value, or the mean of the two in the middle —
exactly as sorting every wait would give it, without sorting or scanning the rows again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

TENTH = Decimal("0.1")


def median(counts: Counter[int]) -> tuple[Decimal, int] | None:
    """The median of the values counted in `counts` ({value: how many times}) to one decimal
    place, and how many values there are; None when there are none."""
    n = sum(counts.values())
    if n <= 0:
        return None
    ordered = sorted(counts.items())

    def at(rank: int) -> int:
        """The value at 1-based `rank` of the values in order."""
        seen = 0
        for value, times in ordered:
            seen += times
            if seen >= rank:
                return value
        raise ValueError(rank)

    middle = (Decimal(at((n + 1) // 2)) + Decimal(at((n + 2) // 2))) / 2
    return middle.quantize(TENTH, rounding=ROUND_HALF_UP), n


def merged(histograms: Iterable[Counter[int]]) -> Counter[int]:
    """Several groups' counts as one (the overall median of grouped waits)."""
    total: Counter[int] = Counter()
    for counts in histograms:
        total.update(counts)
    return total
