"""Small-cell suppression for aggregate tables that leave the advocates' scope (S13).

A table of counts is extended with its row totals, column totals and grand total. Every count
from 1 to threshold − 1 is hidden (primary suppression). Then complementary cells are hidden
until no hidden value can be worked out from the shown ones by adding and subtracting.

Why that test is exact: negate the totals column and row (except the grand total) and every line
of the extended grid sums to zero. The hidden cells are edges of a bipartite graph (grid rows on
one side, grid columns on the other). A hidden cell lying on a cycle of hidden cells can move by
+d, −d, +d … around the cycle without changing any line sum, so it cannot be recovered; a hidden
cell on no cycle (a bridge, e.g. the only hidden cell of its row) is fixed by the line sums. So we
close every bridge with the cheapest rectangle of extra hidden cells, and repeat until none is left.
Zero cells are used as complements only when nothing else fits, since an empty cell is often
known from outside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

ZERO_PENALTY = 10**9  # a zero complement protects little: prefer any non-zero cell
TOTAL_PENALTY = 10**6  # hiding a total costs more than hiding an inner cell


@dataclass(frozen=True)
class SuppressedTable:
    """Counts with their totals; `None` marks a hidden cell. `hidden` lists (row, column) in the
    extended grid, where row `len(rows)` holds the column totals and column `len(columns)` the
    row totals."""

    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    grand_total: int | None
    hidden: frozenset[tuple[int, int]]
    threshold: int

    @property
    def suppressed(self) -> bool:
        return bool(self.hidden)


def extend(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The grid with a totals column and a totals row appended."""
    width = len(cells[0]) if cells else 0
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[j] for row in grid) for j in range(width + 1)])
    return grid


def hidden_cells(
    grid: Sequence[Sequence[int]], threshold: int, forced: frozenset[tuple[int, int]] = frozenset()
) -> set[tuple[int, int]]:
    """Primary and complementary suppression on an extended grid (see the module docstring);
    `forced` cells are hidden from the start (a total another table shares had to hide)."""
    rows, cols = len(grid), len(grid[0])
    hidden = {(i, j) for i in range(rows) for j in range(cols) if 0 < grid[i][j] < threshold} | set(forced)

    def cost(i: int, j: int) -> int:
        if (i, j) in hidden:
            return 0
        value = grid[i][j]
        penalty = TOTAL_PENALTY if i == rows - 1 or j == cols - 1 else 0
        return (value if value > 0 else ZERO_PENALTY) + penalty

    while (bridge := _first_bridge(hidden, rows, cols)) is not None:
        i, j = bridge
        best: tuple[int, int, int] | None = None
        for other_row in range(rows):
            if other_row == i:
                continue
            for other_col in range(cols):
                if other_col == j:
                    continue
                price = cost(i, other_col) + cost(other_row, j) + cost(other_row, other_col)
                if best is None or price < best[0]:
                    best = (price, other_row, other_col)
        if best is None:  # a grid of one line cannot be protected: hide all of it
            return {(r, c) for r in range(rows) for c in range(cols)}
        _, other_row, other_col = best
        hidden |= {(i, other_col), (other_row, j), (other_row, other_col)}
    return hidden


def _first_bridge(hidden: set[tuple[int, int]], rows: int, cols: int) -> tuple[int, int] | None:
    """A hidden cell whose edge lies on no cycle of hidden cells, if any (Tarjan's bridges)."""
    adjacency: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for i, j in hidden:
        row_node, col_node = i, rows + j
        adjacency.setdefault(row_node, []).append((col_node, (i, j)))
        adjacency.setdefault(col_node, []).append((row_node, (i, j)))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    bridges: list[tuple[int, int]] = []
    for start in sorted(adjacency):
        if start in order:
            continue
        order[start] = low[start] = len(order)
        stack: list[tuple[int, tuple[int, int] | None, int]] = [(start, None, 0)]
        while stack:
            node, via, index = stack.pop()
            edges = adjacency[node]
            if index < len(edges):
                stack.append((node, via, index + 1))
                neighbour, cell = edges[index]
                if cell == via:
                    continue
                if neighbour in order:
                    low[node] = min(low[node], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = len(order)
                    stack.append((neighbour, cell, 0))
            elif stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent] and via is not None:
                    bridges.append(via)
    return min(bridges) if bridges else None


def suppress(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: Sequence[Sequence[int]],
    *,
    threshold: int,
    forced: frozenset[tuple[int, int]] = frozenset(),
) -> SuppressedTable:
    """Hide small counts and their complements; threshold ≤ 1 hides nothing."""
    if not row_labels or not column_labels:
        return SuppressedTable(
            list(row_labels), list(column_labels), [], [], [0] * len(column_labels), 0, frozenset(), threshold
        )
    grid = extend(cells)
    hidden = hidden_cells(grid, threshold, forced) if threshold > 1 else set()
    shown = [
        [None if (i, j) in hidden else grid[i][j] for j in range(len(grid[0]))] for i in range(len(grid))
    ]
    return SuppressedTable(
        row_labels=list(row_labels),
        column_labels=list(column_labels),
        cells=[row[:-1] for row in shown[:-1]],
        row_totals=[row[-1] for row in shown[:-1]],
        column_totals=shown[-1][:-1],
        grand_total=shown[-1][-1],
        hidden=frozenset(hidden),
        threshold=threshold,
    )


def suppress_sharing_row_totals(
    row_labels: Sequence[str],
    first: tuple[Sequence[str], Sequence[Sequence[int]]],
    second: tuple[Sequence[str], Sequence[Sequence[int]]],
    *,
    threshold: int,
) -> tuple[SuppressedTable, SuppressedTable]:
    """Two tables of the same rows whose row totals are equal (two ways of splitting the same
    units): a total hidden in one is hidden in the other too, and each table then protects it with
    complements of its own, until neither hides a total the other shows."""
    forced_rows: frozenset[int] = frozenset()
    while True:
        tables = [
            suppress(row_labels, labels, cells, threshold=threshold, forced=_totals(forced_rows, len(labels)))
            for labels, cells in (first, second)
        ]
        rows_hidden = frozenset(
            i for table in tables for i, j in table.hidden if j == len(table.column_labels)
        )
        if rows_hidden <= forced_rows:
            return tables[0], tables[1]
        forced_rows |= rows_hidden


def _totals(rows: frozenset[int], width: int) -> frozenset[tuple[int, int]]:
    """The row-total cells of `rows` in an extended grid of `width` columns (before the total)."""
    return frozenset((i, width) for i in rows)


def suppress_line(values: Sequence[int], *, threshold: int) -> list[int | None]:
    """One line of counts whose total is shown and which no other line shares (a partition of one
    known total): hide counts from 1 to threshold − 1, and if that hides only one cell, hide the
    smallest other cell too (a non-zero one if there is any), so only their sum can be known."""
    hidden = {i for i, v in enumerate(values) if 0 < v < threshold} if threshold > 1 else set()
    if len(hidden) == 1:
        others = [i for i in range(len(values)) if i not in hidden]
        if others:
            hidden.add(min(others, key=lambda i: (values[i] == 0, values[i])))
    return [None if i in hidden else v for i, v in enumerate(values)]


# --- query-set-size control: filters that would let two reports be subtracted (S13) ------------

Setting = tuple[object, ...]  # one filter value per dimension; None: that dimension is not filtered


def matches(key: Setting, setting: Setting) -> bool:
    return all(wanted is None or value == wanted for value, wanted in zip(key, setting, strict=True))


def population(cube: Mapping[Setting, int], setting: Setting) -> int:
    """How many units (victims, claims, allegations) a filter setting picks out of the cube (the
    counts of every combination of the filterable dimensions)."""
    return sum(n for key, n in cube.items() if matches(key, setting))


def too_few_to_show(cube: Mapping[Setting, int], setting: Setting, threshold: int) -> bool:
    """Refuse a filter setting whose population is below the threshold, or differs by 1 to
    threshold − 1 units from the population of any coarser setting (fewer filters), so that no
    two shown reports can be subtracted to give a report on fewer than `threshold` units.

    The coarser settings that matter are exactly those made of the setting's closure: every
    dimension on which all its units share one value, set to that value. Any setting whose
    population contains this one's can only filter on those dimensions with those values, so
    checking each subset of the closure covers every pair of nested populations. The unfiltered
    report is never refused (it has nothing coarser; its own cells are suppressed)."""
    if threshold <= 1 or all(value is None for value in setting):
        return False
    members = {key: n for key, n in cube.items() if n > 0 and matches(key, setting)}
    size = sum(members.values())
    if size < threshold:
        return True
    closure = [_shared_value(members, d) for d in range(len(setting))]
    filtered = [d for d, value in enumerate(closure) if value is not None]
    for chosen in range(len(filtered)):
        for kept in combinations(filtered, chosen):
            coarser = tuple(closure[d] if d in kept else None for d in range(len(setting)))
            if 0 < population(cube, coarser) - size < threshold:
                return True
    return False


def _shared_value(members: Mapping[Setting, int], dimension: int) -> object:
    """The value every member has on `dimension`, or None if they differ."""
    values = {key[dimension] for key in members}
    return values.pop() if len(values) == 1 else None
