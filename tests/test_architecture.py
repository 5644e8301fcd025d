"""The house's shape as gates: rooms of a few hundred lines, and arrows that point one way."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vat", "ledger", "seeding")
MAX_LINES = 600


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm, iterative: every group of modules that import each other in a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def present_packages() -> list[str]:
    return [name for name in PACKAGES if (ROOT / name / "__init__.py").exists()]


def test_no_import_cycle_among_application_modules():
    graph = grimp.build_graph(*present_packages())
    assert [sorted(group) for group in strongly_connected(graph)] == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert strongly_connected(graph) == [{"a.x", "a.y"}]


def test_ledger_never_imports_victim_assistance_code():
    """The ledger tells the victims' side what it paid through a signal, never by an import."""
    graph = grimp.build_graph(*present_packages())
    victim_assistance = ("vat.victims", "vat.claims", "vat.allegations", "vat.reports")
    reached = {
        imported
        for module in graph.find_descendants("ledger")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith(victim_assistance)
    }
    assert reached == set()


def test_no_application_module_over_the_limit():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in present_packages()
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
