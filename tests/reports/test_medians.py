"""The one median of the reports (vat.reports.medians): read off counts, it is the median of the
values themselves."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from vat.reports.medians import median, merged


def _expected(values: list[int]) -> Decimal:
    exact = Decimal(str(statistics.median(values)))
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def test_none_without_values() -> None:
    assert median(Counter()) is None


def test_odd_and_even_counts_and_ties() -> None:
    assert median(Counter({5: 1})) == (Decimal("5.0"), 1)
    assert median(Counter({3: 1, 4: 1})) == (Decimal("3.5"), 2)
    assert median(Counter({-2: 2, 7: 1})) == (Decimal("-2.0"), 3)
    assert median(Counter({1: 2, 9: 2})) == (Decimal("5.0"), 4)


def test_the_median_of_the_values_whatever_their_spread() -> None:
    chance = random.Random(14)  # noqa: S311 - test data
    for _ in range(300):
        values = [chance.randint(-30, 400) for _ in range(chance.randint(1, 60))]
        assert median(Counter(values)) == (_expected(values), len(values))


def test_merged_groups_give_the_overall_median() -> None:
    chance = random.Random(15)  # noqa: S311 - test data
    groups = [[chance.randint(0, 90) for _ in range(chance.randint(1, 20))] for _ in range(5)]
    everything = [v for group in groups for v in group]
    assert median(merged(Counter(g) for g in groups)) == (_expected(everything), len(everything))
