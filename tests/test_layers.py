"""The layers hold (../shared/DESIGN.md "Layers"): edges parse, call an operation and
render; operations enforce the policy and audit; imports point inwards, in no circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "followup"
STORAGE = ("sqlalchemy", "sqlmodel")
WEB_AND_CLI = ("fastapi", "starlette", "click")


def _modules(under: str = "") -> dict[str, Path]:
    found = {}
    for path in sorted((PACKAGE / under).rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, at the top or inside a function (an import inside a
    function is still a dependency), but not under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            # `from package import module` depends on that module; `from module import
            # name` on the module.
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return found


def _offending(under: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for name, path in _modules(under).items():
        hits = {m.split(".")[0] for m in _imports(name, path)} & set(forbidden)
        if hits:
            bad[name] = sorted(hits)
    return bad


def test_no_web_route_and_no_cli_command_module_imports_sqlalchemy():
    assert _offending("web/routes", STORAGE) == {}
    assert _offending("cli", STORAGE) == {}


def test_no_operation_imports_the_web_or_the_command_line():
    assert _offending("operations", WEB_AND_CLI) == {}
    bad = {
        name: sorted(
            m for m in _imports(name, path) if m.startswith(("followup.web", "followup.cli"))
        )
        for name, path in _modules("operations").items()
    }
    assert {name: hits for name, hits in bad.items() if hits} == {}


def test_the_vocabulary_imports_nothing_but_the_standard_library():
    assert _imports("followup.vocab", PACKAGE / "vocab.py") == {"__future__", "enum"}


def _graph() -> dict[str, set[str]]:
    return {
        name: {m for m in _imports(name, path) if m in MODULES and m != name}
        for name, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_two_modules_of_followup_import_each_other_even_by_way_of_others():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize(
    "module", ["followup.cli", "followup.models", "followup.db", "followup.operations.caseload"]
)
def test_a_module_imports_on_its_own_in_a_fresh_interpreter(module):
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=PACKAGE.parent)


def test_the_command_line_loads_without_sqlalchemy_numpy_or_fastapi_so_help_is_quick():
    code = (
        "import sys, followup.cli; "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'numpy', 'fastapi') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert done.stdout.strip() == "[]"
