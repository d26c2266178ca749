"""The import rule, checked on the source: the harness (runs in the user's training environment)
imports only torch and the standard library; the controller (the rest of gate/) never imports
torch, directly or through a harness module it uses. Without this only the Docker tests, whose
image has nothing else, would notice a stray import."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

GATE = ROOT / "gate"
HARNESS = GATE / "harness"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = False) -> Iterator[tuple[int, str, bool]]:
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    return _imports_in(path.read_text(), package, top_level_only)


def _imports_in(source: str, package: str, top_level_only: bool = False) -> Iterator[tuple[int, str, bool]]:
    """(line, absolute module name, optional) for each import; ``optional`` when it sits in a
    ``try`` that handles ImportError (numpy is used when present)."""

    def visit(node: ast.AST, optional: bool) -> Iterator[tuple[int, str, bool]]:
        for child in ast.iter_child_nodes(node):
            if top_level_only and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(child, ast.Import):
                yield from ((child.lineno, a.name, optional) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package.rsplit(".", child.level - 1)[0] if child.level else ""
                name = ".".join(filter(None, [base, child.module or ""]))
                yield child.lineno, name, optional
            guarded = isinstance(child, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in child.handlers
            )
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                continue  # annotations only, never imported at run time
            yield from visit(child, optional or guarded)

    yield from visit(ast.parse(source), False)


def _allowed_in_harness(name: str) -> bool:
    top = name.split(".")[0]
    return top in sys.stdlib_module_names or top == "torch" or name.startswith("gate.harness")


def test_harness_imports_only_torch_and_the_standard_library() -> None:
    stray = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted(HARNESS.rglob("*.py"))
        for line, name, optional in _imports(path)
        if not optional and not _allowed_in_harness(name)
    ]
    assert not stray


def _pulls_torch(module: str, seen: set[str]) -> bool:
    """Whether importing a gate module imports torch at module level, following gate imports."""
    if module in seen:
        return False
    seen.add(module)
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    if not path.is_file():
        return False
    for _, name, _ in _imports(path, top_level_only=True):
        if name.split(".")[0] == "torch":
            return True
        if name.startswith("gate.") and _pulls_torch(name, seen):
            return True
    return False


def test_controller_never_imports_torch() -> None:
    controller = [p for p in sorted(GATE.rglob("*.py")) if HARNESS not in p.parents]
    assert len(controller) > 30
    stray = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in controller
        for line, name, _ in _imports(path)
        if name.split(".")[0] == "torch" or (name.startswith("gate.harness") and _pulls_torch(name, set()))
    ]
    assert not stray


def test_the_rule_catches_a_stray_import() -> None:
    # The walker sees imports inside functions, resolves relative ones and knows optional ones.
    source = "def f():\n    from ..spec import Spec\n    import requests\n    try:\n        import numpy\n    except ImportError:\n        pass\n"
    found = [(name, optional) for _, name, optional in _imports_in(source, "gate.harness.checks")]
    assert ("numpy", True) in found
    assert ("requests", False) in found and ("gate.harness.spec", False) in found
    assert not _allowed_in_harness("requests") and not _allowed_in_harness("pydantic")
    assert _pulls_torch("gate.harness.loop", set()) and not _pulls_torch("gate.harness.spec", set())


# Imports of gate.harness modules inside a function body, each with the reason it cannot sit
# at the top of its module. Anything else is a late import hiding a cycle: move the shared code
# into a module both sides import instead (as gate/harness/check_api.py is).
LATE_IMPORTS = {
    # `from gate.harness import OverfitTask` resolves lazily, so that the controller importing a
    # torch-free submodule (spec, verdict, contract) never pulls torch in.
    ("gate/harness/__init__.py", "gate.harness.task"),
    # The harness process imports torch and everything that needs it inside main's try, so a
    # broken torch in the user's environment still ends in an error result.json.
    ("gate/harness/__main__.py", "gate.harness.loop"),
    ("gate/harness/__main__.py", "gate.harness.run_task"),
    ("gate/harness/__main__.py", "gate.harness.script"),
    ("gate/harness/__main__.py", "gate.harness.task"),
    ("gate/harness/__main__.py", "gate.harness.weight_decay"),
}


def _is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _import_time_edges(source: str, module: str, package: str) -> set[str]:
    """The gate.harness modules that importing ``module`` imports itself: statements at module
    level (inside if/try/class bodies too), not in functions and not under TYPE_CHECKING.
    Packages ``module`` lives in are being imported already, so they only count when a name
    defined in their ``__init__`` is imported."""

    def walk(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            yield from walk(child)

    own = set(_ancestors(module))
    edges: set[str] = set()
    for node in walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                edges |= {alias.name, *_ancestors(alias.name)} - own
            continue
        base = package.rsplit(".", node.level - 1)[0] if node.level else ""
        target = ".".join(filter(None, [base, node.module or ""]))
        edges |= set(_ancestors(target)) - own
        submodules = {f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")}
        edges |= submodules
        if target not in own or len(submodules) < len(node.names):  # names from the __init__ itself
            edges.add(target)
    return {e for e in edges if e == "gate.harness" or e.startswith("gate.harness.")}


def _harness_graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(HARNESS.rglob("*.py")):
        module = _module(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        graph[module] = _import_time_edges(path.read_text(), module, package) - {module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_harness_import_graph_is_acyclic() -> None:
    graph = _harness_graph()
    assert len(graph) > 40 and "gate.harness.verdict" in graph["gate.harness.loop"]
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_harness_modules_import_each_other_at_module_level() -> None:
    late = sorted(
        (str(path.relative_to(ROOT)), name, line)
        for path in sorted(HARNESS.rglob("*.py"))
        for line, name, _ in _imports(path)
        if name.startswith("gate.harness")
        and (line, name) not in {(ln, n) for ln, n, _ in _imports(path, top_level_only=True)}
    )
    stray = [f"{p}:{line} imports {name} inside a function" for p, name, line in late if (p, name) not in LATE_IMPORTS]
    assert not stray
    # The allow-list holds only what still exists: a removed late import leaves no stale excuse.
    assert {(p, name) for p, name, _ in late} == LATE_IMPORTS


def test_the_graph_sees_the_cycles_that_matter() -> None:
    # A submodule importing a sibling through its package is no cycle; importing a name the
    # package's __init__ defines is (the __init__ is only half run at that point).
    sibling = _import_time_edges(
        "from gate.harness.checks import probe\n", "gate.harness.checks.x", "gate.harness.checks"
    )
    assert sibling == {"gate.harness.checks.probe"}
    init_name = _import_time_edges("from . import ALL\n", "gate.harness.checks.x", "gate.harness.checks")
    assert init_name == {"gate.harness.checks"}
    late = _import_time_edges(
        "def f():\n    from gate.harness.loop import train\nif TYPE_CHECKING:\n    import gate.harness.spec\n",
        "gate.harness.checks.x",
        "gate.harness.checks",
    )
    assert late == set()
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_run_task_is_only_the_task_runner() -> None:
    # What both modes share lives in outcome.py / runtime.py; script mode never imports task mode.
    users = {
        str(path.relative_to(ROOT))
        for path in sorted(HARNESS.rglob("*.py"))
        for _, name, _ in _imports(path)
        if name == "gate.harness.run_task"
    }
    assert users == {"gate/harness/__main__.py"}
