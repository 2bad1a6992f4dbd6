"""The code's layout keeps its rules (issue 9): floors, wings, no cycles, small modules.

Every import statement counts, at module level or inside a function (a lazy import is still a
dependency), so the rules hold for what runs, not just for what loads first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tools", "bot")
# Floors, lowest first: a module imports only from floors below it or from its own wing.
FLOORS = {
    "tools": 0,
    "bot.text": 1,
    "bot.settings": 2,
    "bot.agent": 3,
    "bot.alerts": 3,
    "bot.telegram": 4,
    "bot.cli": 5,
}
MAX_LINES = 450
MAX_LOOSE_MODULES = 3  # bot/__init__.py, bot/settings.py, and room for one more


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def imports(path: Path) -> set[str]:
    """The project modules a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in MODULES}


GRAPH = {name: imports(path) - {name} for name, path in MODULES.items()}


def wing(module: str) -> str:
    """The floor a module belongs to: the longest FLOORS key that prefixes it."""
    keys = [k for k in FLOORS if module == k or module.startswith(k + ".")]
    return max(keys, key=len)


def test_the_rules_see_the_code():
    assert len(MODULES) > 40 and {"bot.agent.loop", "tools.store", "bot.cli.main"} <= set(MODULES)
    assert "bot.agent.registry" in GRAPH["bot.agent.loop"]


def test_no_upward_or_sideways_imports():
    wrong = [
        f"{m} imports {d}"
        for m, deps in GRAPH.items()
        for d in deps
        if wing(d) != wing(m) and FLOORS[wing(d)] >= FLOORS[wing(m)]
    ]
    assert wrong == []


def test_tools_never_import_bot():
    assert [
        m
        for m, deps in GRAPH.items()
        if m.startswith("tools") and deps - set(x for x in deps if x.startswith("tools"))
    ] == []


def test_only_the_cli_imports_telegram():
    users = {m for m, deps in GRAPH.items() for d in deps if d.startswith("bot.telegram")}
    assert {wing(m) for m in users} <= {"bot.telegram", "bot.cli"}


def test_no_import_cycles():
    """Depth-first search over the whole graph; a back edge is a cycle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for dep in sorted(GRAPH[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_few_loose_modules_at_the_top_of_bot():
    loose = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose
