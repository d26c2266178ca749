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
