"""The import graph points one way: a layer imports only the layers below it (eqcheck/__init__.py lists them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eqcheck"

# Bottom to top. The root modules errors/dtypes/_lazy are the foundation every layer may use.
LAYERS = ["foundation", "backends", "spec", "cases", "verdict", "execution", "report", "gate", "entry"]
FOUNDATION = {"errors", "dtypes", "_lazy", "__init__", "__version__"}
ENTRY = {"cli", "__main__"}


def layer_of(module: str) -> str:
    """'eqcheck.cases.weights' -> 'cases'; root modules map to foundation or entry."""
    parts = module.split(".")
    if len(parts) == 1 or parts[0] != "eqcheck":
        return "foundation"  # `eqcheck` itself (`from eqcheck import __version__`)
    head = parts[1]
    if head in FOUNDATION:
        return "foundation"
    if head in ENTRY:
        return "entry"
    assert head in LAYERS, f"eqcheck.{head} belongs to no layer: add it to LAYERS or move it into one"
    return head


def eqcheck_imports(path: Path) -> list[tuple[int, str]]:
    """Every eqcheck module a file imports, deferred imports inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "eqcheck":
            for alias in node.names:  # `from eqcheck.cases import weights` imports eqcheck.cases.weights
                found.append((node.lineno, f"{node.module}.{alias.name}" if node.module == "eqcheck" else node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "eqcheck")
    return found


def upward_imports(package: Path) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(("eqcheck",) + path.relative_to(package).with_suffix("").parts)
        own = LAYERS.index(layer_of(module))
        for line, imported in eqcheck_imports(path):
            target = layer_of(imported)
            if LAYERS.index(target) > own:
                problems.append(f"{path.relative_to(package.parent)}:{line} ({layer_of(module)}) imports {imported} ({target})")
    return problems


def test_no_layer_imports_a_higher_one():
    assert upward_imports(PACKAGE) == []


def test_every_layer_says_what_it_owns_and_may_import():
    for layer in LAYERS[1:-1]:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
        assert doc and ("May import" in doc or "may import" in doc), f"eqcheck/{layer}/__init__.py lacks its layer docstring"


def test_the_check_catches_a_planted_upward_import(tmp_path):
    planted = tmp_path / "eqcheck"
    (planted / "verdict").mkdir(parents=True)
    (planted / "verdict" / "compare.py").write_text("def f():\n    from eqcheck.report import console\n")
    assert upward_imports(planted) == ["eqcheck/verdict/compare.py:2 (verdict) imports eqcheck.report (report)"]


@pytest.mark.parametrize("module", ["eqcheck.cases.weights", "eqcheck.execution.checks.gradients", "eqcheck.cli"])
def test_layer_names(module):
    assert layer_of(module) in LAYERS


def module_names(package: Path) -> dict[str, Path]:
    """'eqcheck.execution.checks.gradients' -> its file; a package is named by its folder."""
    names = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        names[".".join(("eqcheck",) + (parts[:-1] if parts[-1] == "__init__" else parts))] = path
    return names


def import_circles(package: Path) -> list[list[str]]:
    """Groups of modules that import each other in a circle (deferred imports included), each sorted."""
    modules = module_names(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "eqcheck":
                found = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names]
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            else:
                continue
            for imported in found:
                while imported not in modules and "." in imported:
                    imported = imported.rsplit(".", 1)[0]
                # a package's own __init__ and its parents are not a circle through their submodules
                if imported in modules and imported != name and not name.startswith(imported + "."):
                    graph[name].add(imported)
    circles, done = [], set()
    for start in sorted(graph):  # a module on a circle reaches itself; its circle is what it reaches that reaches it
        reach = _reaches(graph, start)
        if start in reach and start not in done:
            circle = sorted(m for m in reach if start in _reaches(graph, m))
            done.update(circle)
            circles.append(circle)
    return circles


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    reach, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - reach:
            reach.add(nxt)
            todo.append(nxt)
    return reach


def test_no_modules_import_each_other_in_a_circle():
    assert import_circles(PACKAGE) == []


def test_the_circle_check_catches_a_planted_circle(tmp_path):
    planted = tmp_path / "eqcheck"
    (planted / "execution" / "checks").mkdir(parents=True)
    (planted / "execution" / "sides.py").write_text("from eqcheck.execution.checks import reference\n")
    (planted / "execution" / "checks" / "reference.py").write_text("from eqcheck.execution.checks import gradients\n")
    (planted / "execution" / "checks" / "gradients.py").write_text("def f():\n    from eqcheck.execution import sides\n")
    (planted / "execution" / "trial.py").write_text("from eqcheck.execution import sides\n")  # reaches it, not on it
    assert import_circles(planted) == [["eqcheck.execution.checks.gradients", "eqcheck.execution.checks.reference",
                                        "eqcheck.execution.sides"]]
