"""The package layers: the import graph of the project's own packages, read from the source.

Every import of ``registry.*`` and ``auth.*`` counts, at the top of a module or inside a function: a local
import hides an arrow, it does not remove it. A package is ``registry.<name>`` or ``auth.<name>`` (a
top-level module such as ``registry/config.py`` is a package of its own; ``auth`` is auth/__init__.py).

    .venv/bin/python tests/test_architecture.py     # prints the layers, bottom first (docs/architecture.md)
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ROOTS = ("registry", "auth")
# A module that imports nothing of the project is a node of its own: it cannot close a cycle, and its package
# may stand above a package that uses it. The dossier's verifier is run on its own by parties (a copy of one
# file), so the format it checks (leaves, heads) lives there and the transparency log imports it.
STANDALONE = frozenset({"registry.dossier.verify"})


def _module(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package(module: str) -> str:
    for standalone in STANDALONE:
        if module == standalone or module.startswith(standalone + "."):
            return standalone
    return ".".join(module.split(".")[:2])


@cache
def imports() -> dict[tuple[str, str], tuple[str, ...]]:
    """(importing package, imported package) → where (file:line), for every import between two packages."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for root in ROOTS:
        for path in sorted((PROJECT / root).rglob("*.py")):
            here = package(_module(path))
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    # ``from registry import online``: registry.online; ``from registry.db import db``: registry.db
                    targets = [f"{node.module}.{alias.name}" for alias in node.names]
                else:
                    continue
                for target in targets:
                    if target.split(".")[0] in ROOTS and package(target) != here:
                        found[(here, package(target))].append(f"{path.relative_to(PROJECT)}:{node.lineno}")
    return {edge: tuple(places) for edge, places in found.items()}


def graph() -> dict[str, set[str]]:
    nodes: dict[str, set[str]] = defaultdict(set)
    for (source, target) in imports():
        nodes[source].add(target)
        nodes.setdefault(target, set())
    return dict(nodes)


def cycles(nodes: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(nodes[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def layers(nodes: dict[str, set[str]]) -> list[list[str]]:
    """Floor 0 imports no other package; every package stands one floor above the highest it imports."""
    floor: dict[str, int] = {}

    def height(node: str) -> int:
        if node not in floor:
            floor[node] = -1  # guards a cycle (the test fails on one first)
            floor[node] = 1 + max((height(other) for other in nodes[node]), default=-1)
        return floor[node]

    result: list[list[str]] = []
    for node in sorted(nodes):
        level = height(node)
        result.extend([] for _ in range(level + 1 - len(result)))
        result[level].append(node)
    return result


def _edges_within(component: list[str]) -> list[str]:
    return [f"{a} → {b}: {', '.join(places)}" for (a, b), places in sorted(imports().items())
            if a in component and b in component]


# Files that may import the project's own modules inside a function, and why. Anywhere else an import of
# registry.* or auth.* stands at the top of the module, where the wiring can be seen.
LOCAL_IMPORTS_ALLOWED = {
    "auth/__init__.py": "the app-start wiring loads auth's own submodules (import auth.access must stay light)",
}


def _local_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    lines = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
                if any(name.split(".")[0] in ROOTS for name in names):
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_the_project_imports_its_own_modules_at_the_top():
    found = {}
    for root in ROOTS:
        for path in sorted((PROJECT / root).rglob("*.py")):
            relative = str(path.relative_to(PROJECT))
            if relative not in LOCAL_IMPORTS_ALLOWED and (lines := _local_imports(path)):
                found[relative] = lines
    if lines := _local_imports(PROJECT / "app.py"):
        found["app.py"] = lines
    assert not found, f"function-local imports of registry.*/auth.* (move them to the top): {found}"


def test_no_cycle_between_packages():
    found = cycles(graph())
    assert not found, "package cycles:\n" + "\n".join(line for c in found for line in _edges_within(c))


def test_a_standalone_module_imports_nothing_of_the_project():
    assert all(not graph().get(module) for module in STANDALONE), {m: graph().get(m) for m in STANDALONE}


def test_the_domain_imports_no_other_package_and_no_flask():
    assert graph().get("registry.domain", set()) == set()
    for path in (PROJECT / "registry" / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("flask", "flask_babel", "flask_sqlalchemy") for n in names), path


def test_recording_does_not_import_the_csb():
    assert "registry.csb" not in graph().get("registry.declarations", set()), imports().get(
        ("registry.declarations", "registry.csb"))


def test_access_rules_import_no_other_auth_module():
    theirs = {target for target in graph().get("auth.access", set()) if target.split(".")[0] == "auth"}
    assert not theirs, {t: imports()[("auth.access", t)] for t in theirs}


def markdown_layers() -> str:
    """The table of docs/architecture.md's "Package layers", bottom floor first."""
    rows = ["| floor | packages (each imports only from floors below it) |", "|---|---|"]
    for level, members in enumerate(layers(graph())):
        rows.append(f"| {level} | {' · '.join(f'`{m}`' for m in members)} |")
    return "\n".join(rows) + "\n"


def test_the_documented_layers_are_the_graph(capsys):
    with capsys.disabled():
        print("\n" + markdown_layers())
    documented = (PROJECT / "docs" / "architecture.md").read_text()
    assert markdown_layers() in documented, "docs/architecture.md: regenerate (python tests/test_architecture.py)"


if __name__ == "__main__":
    for component in cycles(graph()):
        print("CYCLE", *_edges_within(component), sep="\n  ")
    print(markdown_layers(), end="")
