"""No import cycle between Majlis's packages at module level (issue 20, item 4).

Every module under majlis/ is parsed with `ast`; its module-level imports (not those inside functions, not those under
`if TYPE_CHECKING:`) give edges between units: a capability package (majlis/auth, majlis/sessions, ...) or a top-level
module (majlis/db.py, majlis/live.py, ...). The graph of units must have no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "majlis"
SKIPPED = {"migrations", "translations"}  # Alembic's scripts and the catalogs are not part of the import graph


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str | None:
    """The unit a Majlis module belongs to: majlis.X for majlis/X/... and majlis/X.py; None outside Majlis."""
    parts = module.split(".")
    if parts[0] != "majlis" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(statements: list[ast.stmt], module: str, is_package: bool) -> set[str]:
    """The modules named by the module-level imports among these statements (descending into if/try, not defs)."""
    found: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from majlis import live`
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found |= _imported(node.body, module, is_package)
            found |= _imported(node.orelse, module, is_package)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                found |= _imported(block, module, is_package)
        elif isinstance(node, ast.With):
            found |= _imported(node.body, module, is_package)
    return found


def package_graph(root: Path = ROOT) -> dict[str, dict[str, set[str]]]:
    """Return {unit: {imported unit: {files importing it}}} for Majlis's module-level imports."""
    units = {_unit(_module_name(path, root)) for path in root.rglob("*.py")} - {None}
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        if SKIPPED & set(path.relative_to(root).parts):
            continue
        module = _module_name(path, root)
        source = _unit(module)
        if source is None:  # majlis/__init__.py, the app factory, may import anything
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name in _imported(tree.body, module, path.name == "__init__.py"):
            target = _unit(name)
            if target in units and target != source:
                graph.setdefault(source, {}).setdefault(target, set()).add(str(path.relative_to(root.parent)))
    return graph


def find_cycles(graph: dict[str, set[str]] | dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Return the strongly connected components with more than one node (each a cycle or several), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph has a few dozen nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}) == [["a", "b"], ["c", "d"]]


def test_the_graph_reads_module_level_imports_only(tmp_path):
    package = tmp_path / "majlis"
    for name in ("one", "two", "three"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "one" / "services.py").write_text("from majlis.two import models\n")
    (package / "two" / "models.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from majlis.one import services\n"
        "def later():\n    from majlis.one import services\n")
    (package / "three" / "views.py").write_text("from ..one import services\nimport majlis.two.models\n")
    graph = package_graph(package)
    assert {unit: set(targets) for unit, targets in graph.items()} == {
        "majlis.one": {"majlis.two"}, "majlis.three": {"majlis.one", "majlis.two"}}
    (package / "two" / "views.py").write_text("from majlis.one.services import anything\n")
    assert find_cycles(package_graph(package)) == [["majlis.one", "majlis.two"]]


def test_no_import_cycle_between_packages():
    graph = package_graph()
    edges = [f"{source} -> {target} ({', '.join(sorted(files))})" for component in find_cycles(graph)
             for source in component for target, files in sorted(graph.get(source, {}).items()) if target in component]
    assert not edges, "import cycles between packages:\n" + "\n".join(edges)
