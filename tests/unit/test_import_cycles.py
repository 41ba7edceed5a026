"""No import cycle in ``nemo_sdk``, not even under ``TYPE_CHECKING``.

The graph is built statically from every module's source (``ast``): module-level imports,
``if TYPE_CHECKING:`` imports and imports inside functions alike, of every subpackage
(the emulator, cli, sync and contrib ones included). A cycle marks a job in the wrong
place: break it with a small ``Protocol`` or by moving a type down, not by hiding the
import.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "nemo_sdk"

# Cycles left in modules another change owns (issue 16), each named by its edges.


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``nemo_sdk`` modules it imports, anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                # ``from pkg import sub`` imports the submodule ``pkg.sub``.
                targets = [
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                    for alias in node.names
                ]
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_within(graph: dict[str, set[str]], component: set[str]) -> set[tuple[str, str]]:
    return {(a, b) for a in component for b in graph[a] if b in component}


def test_the_graph_sees_type_checking_and_function_level_imports() -> None:
    graph = import_graph()
    assert "nemo_sdk.models.chat" in graph["nemo_sdk.errors"] or (
        "nemo_sdk._chat.reply" in graph["nemo_sdk.errors"]  # under TYPE_CHECKING
    )
    assert "nemo_sdk.resources.auth" in graph["nemo_sdk.client"]  # inside a property
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_cycle() -> None:
    graph = import_graph()
    assert [sorted(_edges_within(graph, c)) for c in cycles(graph)] == []
