"""Services that stand alone: a service imports of another only its published
contract (``services/<name>/contract.py``), a contract imports only the
standard library and the kernel, the kernel imports no service, and nothing
in services/ or shared/ imports in a circle.

The rules are import-linter contracts in pyproject.toml ([tool.importlinter]);
the first test runs ``lint-imports`` on them as CI would.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
KERNEL = "shared"


def test_the_import_contracts_hold():
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"lint-imports:\n{done.stdout}\n{done.stderr}"


def _imported(path: Path) -> set[str]:
    """The top-level names of what a module imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else (node.module or "").split(".")[0])
    return names


def test_a_contract_imports_only_the_standard_library_and_the_kernel():
    contracts = sorted((ROOT / "services").glob("*/contract.py"))
    assert {p.parent.name for p in contracts} >= {
        "intake",
        "referral",
        "catalog",
        "complaints",
        "evaluation",
    }
    for path in contracts:
        foreign = {
            name
            for name in _imported(path)
            if name not in sys.stdlib_module_names and name != KERNEL
        }
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_in_a_circle():
    """Module by module, a package's ``__init__`` included (import-linter's
    acyclic_siblings compares siblings only)."""
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph("services", KERNEL, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    assert _cycles(graph) == []
