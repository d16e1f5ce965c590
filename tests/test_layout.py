"""The package layout: no import cycles between harness's parts, and config stays at the edge.

A part is a sub-package (`harness.venue`) or a top-level module (`harness.replay`). Every import
counts, wherever it is written (inside functions and `TYPE_CHECKING` blocks too): a cycle hidden
in a function body is still a cycle in the design.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator, Mapping
from itertools import pairwise
from pathlib import Path

from tests.conftest import ROOT

HARNESS = ROOT / "harness"
EDGE_PARTS = ("venue", "risk", "agents")
"""Parts that receive plain typed settings and never read the scenario format."""

Graph = Mapping[str, Mapping[str, list[str]]]
"""part -> imported part -> where ("venue/venue.py:22 imports harness.sim.clock")."""


def _module_name(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            # `from harness import journal` imports the part `journal`.
            for alias in node.names if name == root.name else [None]:
                yield node.lineno, f"{name}.{alias.name}" if alias else name


def import_graph(root: Path = HARNESS) -> dict[str, dict[str, list[str]]]:
    """Which part of the package at `root` imports which other part, and where."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        source = module[1] if len(module) > 1 else "__init__"
        for line, name in _imports(path, root):
            parts = name.split(".")
            if parts[0] == root.name and len(parts) > 1 and parts[1] != source:
                where = f"{path.relative_to(root)}:{line} imports {name}"
                graph[source][parts[1]].append(where)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of parts as a path that ends where it starts, or None; depth-first, in name
    order, so the same graph always names the same cycle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def describe_cycle(cycle: list[str], graph: Graph) -> str:
    steps = [f"  {a} -> {b}: {graph[a][b][0]}" for a, b in pairwise(cycle)]
    return "import cycle " + " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_the_cycle_finder_names_a_cycle_and_accepts_a_layering() -> None:
    cyclic = {
        "data": {"venue": ["data/book_replay.py:16 imports harness.venue.exchange.l2book"]},
        "sim": {"data": ["sim/tape.py:41 imports harness.data.book_replay"]},
        "venue": {"sim": ["venue/venue.py:22 imports harness.sim.clock"]},
    }
    cycle = find_cycle(cyclic)
    assert cycle == ["data", "venue", "sim", "data"]
    assert describe_cycle(cycle, cyclic).splitlines() == [
        "import cycle data -> venue -> sim -> data",
        "  data -> venue: data/book_replay.py:16 imports harness.venue.exchange.l2book",
        "  venue -> sim: venue/venue.py:22 imports harness.sim.clock",
        "  sim -> data: sim/tape.py:41 imports harness.data.book_replay",
    ]
    layered = {"replay": {"venue": ["x"], "sim": ["x"]}, "venue": {"sim": ["x"]}}
    assert find_cycle(layered) is None


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    root = tmp_path / "harness"
    files = {
        "__init__.py": "",
        "replay.py": "from harness import journal\n",
        "journal.py": "",
        "sim/__init__.py": "",
        "sim/tape.py": "def run():\n    from ..data import query\n",
        "data/__init__.py": "from .query import rows\n",
        "data/query.py": "import harness.venue.book\nrows = 1\n",
        "venue/__init__.py": "",
        "venue/book.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from harness.sim import tape\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    graph = import_graph(root)
    assert {part: sorted(targets) for part, targets in graph.items()} == {
        "replay": ["journal"],
        "sim": ["data"],
        "data": ["venue"],
        "venue": ["sim"],
    }
    assert graph["sim"]["data"] == ["sim/tape.py:2 imports harness.data"]
    assert find_cycle(graph) == ["data", "venue", "sim", "data"]


def test_no_import_cycle_between_parts() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, describe_cycle(cycle, graph)


def test_venue_risk_and_agents_never_import_the_config() -> None:
    graph = import_graph()
    found = [where for part in EDGE_PARTS for where in graph.get(part, {}).get("config", [])]
    assert not found, "config read outside the assembly:\n" + "\n".join(found)
