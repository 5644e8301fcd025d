"""Print the results of `make bench` as one Markdown table: `python -m tests.bench.report`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.bench.conftest import RESULTS


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3f}"


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = [
        "| # | measure | backend | N | app | reference | ratio | queries | target | met |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in sorted(rows, key=lambda r: (r["group"], r["backend"] != "sqlite")):
        met = {True: "yes", False: "**no**"}.get(row.get("met"), "")
        lines.append(
            f"| {row['group']} | {row['measure']} | {row['backend']} | {row['victims']:,} | "
            f"{number(row['app'])} | {number(row['reference'])} | "
            f"{number(row['ratio']) + '×' if row['ratio'] is not None else '—'} | "
            f"{row.get('queries', '')} | {row.get('target', '')} | {met} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(table(path) if path.exists() else f"no results in {path}")
