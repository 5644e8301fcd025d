"""Small-cell suppression: shown counts are 0 or at least the threshold, and no hidden cell can
be worked out from the shown cells and totals by adding and subtracting (S13)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from vat.reports.suppression import extend, suppress

K = 5


def _extended(table):
    grid = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    grid.append([*table.column_totals, table.grand_total])
    return grid


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows]
    rank, width = 0, len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable(shown: list[list[int | None]]) -> list[tuple[int, int]]:
    """Hidden cells whose value the line sums pin down: e_cell lies in the row space of the
    linear system the shown figures give (every row and column of the extended grid sums)."""
    n_rows, n_cols = len(shown), len(shown[0])
    unknowns = [(i, j) for i in range(n_rows) for j in range(n_cols) if shown[i][j] is None]
    index = {cell: k for k, cell in enumerate(unknowns)}

    def coefficient(i: int, j: int, line_is_row: bool) -> Fraction:
        is_total = j == n_cols - 1 if line_is_row else i == n_rows - 1
        return Fraction(-1 if is_total else 1)

    equations = []
    for line_is_row, lines, length in ((True, n_rows, n_cols), (False, n_cols, n_rows)):
        for line in range(lines):
            eq = [Fraction(0)] * len(unknowns)
            for along in range(length):
                cell = (line, along) if line_is_row else (along, line)
                if cell in index:
                    eq[index[cell]] += coefficient(*cell, line_is_row)
            equations.append(eq)
    base = _rank(equations)
    found = []
    for cell, k in index.items():
        unit = [Fraction(0)] * len(unknowns)
        unit[k] = Fraction(1)
        if _rank([*equations, unit]) == base:
            found.append(cell)
    return found


def test_a_lone_small_cell_gets_complements_and_cannot_be_subtracted_out():
    cells = [[3, 10, 12], [8, 9, 20], [15, 6, 7]]
    table = suppress(["a", "b", "c"], ["x", "y", "z"], cells, threshold=K)
    assert table.cells[0][0] is None
    assert table.row_totals == [25, 37, 28]  # totals are large enough to show
    hidden_in_row = sum(v is None for v in table.cells[0])
    assert hidden_in_row >= 2
    assert recoverable(_extended(table)) == []
    # the naive attack: row total minus the shown cells of the row
    shown = [v for v in table.cells[0] if v is not None]
    assert table.row_totals[0] - sum(shown) != 3 or hidden_in_row > 1


def test_nothing_below_the_threshold_is_hidden_when_all_cells_are_large():
    table = suppress(["a", "b"], ["x", "y"], [[5, 6], [0, 9]], threshold=K)
    assert not table.suppressed
    assert table.cells == [[5, 6], [0, 9]]
    assert table.grand_total == 20


def test_a_single_row_hides_the_matching_column_totals_too():
    table = suppress(["only"], ["supported", "not supported"], [[2, 30]], threshold=K)
    assert table.cells == [[None, None]]
    assert table.column_totals == [None, None]
    assert recoverable(_extended(table)) == []


def test_a_small_total_is_hidden():
    table = suppress(["a", "b"], ["x", "y"], [[0, 1], [0, 2]], threshold=K)
    assert table.grand_total is None
    assert recoverable(_extended(table)) == []


def test_threshold_one_hides_nothing():
    assert not suppress(["a"], ["x"], [[1]], threshold=1).suppressed


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda rows: st.integers(1, 4).flatmap(
            lambda cols: st.lists(
                st.lists(st.integers(0, 12), min_size=cols, max_size=cols), min_size=rows, max_size=rows
            )
        )
    )
)
def test_property_shown_counts_are_zero_or_large_and_nothing_is_recoverable(cells):
    table = suppress(
        [f"r{i}" for i in range(len(cells))], [f"c{j}" for j in range(len(cells[0]))], cells, threshold=K
    )
    grid = _extended(table)
    truth = extend(cells)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            assert value is None or value == truth[i][j]
            assert value is None or value == 0 or value >= K
    assert recoverable(grid) == []
    for line in [*grid, *zip(*grid, strict=True)]:
        assert sum(v is None for v in line) != 1
