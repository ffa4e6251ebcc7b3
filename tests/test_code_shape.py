"""One concept, one place (issue 19): no module past 400 lines, no function past 60, no import cycle.

A module longer than :data:`MAX_MODULE_LINES` or a function whose code (its docstring left out) is
longer than :data:`MAX_FUNCTION_LINES` holds two concepts: split it along the seam. Figure builders
in ``multires/figures`` may run longer where the figure is one long recipe; each one allowed is
named in :data:`LONG_FIGURE_BUILDERS` with the reason, and the list is kept exact (an entry that is
no longer long must leave it). The import graph of ``multires`` and of ``ui`` has no cycle: counting
the imports inside functions too, and resolving the names a lazy package face hands on
(``multires._lazy``) to the module that defines them.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The folders held to the limits (the library, the app's session layer, its pages).
FOLDERS = ("multires", "ui", "app_pages")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
#: ``"path::qualified name"`` of a figure builder allowed past :data:`MAX_FUNCTION_LINES` -> why.
#: Empty: every figure builder fits today (the longest, ``figures/tree.py::tree_heatmap``, is 60 lines).
LONG_FIGURE_BUILDERS: dict[str, str] = {}


def sources(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's last line."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return 0 if not body else function.end_lineno - body[0].lineno + 1


def functions(tree: ast.AST, prefix: str = ""):
    """``(qualified name, node)`` of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def long_functions(folder: str) -> dict[str, int]:
    """``"path::name" -> code lines`` of every function of ``folder`` past :data:`MAX_FUNCTION_LINES`."""
    found = {}
    for path in sources(folder):
        for name, node in functions(ast.parse(path.read_text(encoding="utf-8"))):
            lines = code_lines(node)
            if lines > MAX_FUNCTION_LINES:
                found[f"{path.relative_to(REPO).as_posix()}::{name}"] = lines
    return found


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_module_is_past_the_limit(folder):
    long = {path.relative_to(REPO).as_posix(): n for path in sources(folder)
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules past {MAX_MODULE_LINES} lines (split each along a concept): {long}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_function_is_past_the_limit(folder):
    long = {name: n for name, n in long_functions(folder).items() if name not in LONG_FIGURE_BUILDERS}
    assert not long, f"functions whose code is past {MAX_FUNCTION_LINES} lines (docstring excluded): {long}"


def test_the_allowed_long_figure_builders_are_exact():
    """Only figure builders are allowed, each with a reason, and each one still is long."""
    long = long_functions("multires")
    for name, why in LONG_FIGURE_BUILDERS.items():
        assert name.startswith("multires/figures/") and why.strip(), name
        assert name in long, f"{name} is no longer past {MAX_FUNCTION_LINES} lines: take it off the list"


def test_the_measure_leaves_the_docstring_out():
    """Control: a function of a long docstring and two statements measures 2; 61 statements fail."""
    short = ast.parse('def f():\n    """' + "doc\n" * 100 + '    """\n    x = 1\n    return x\n').body[0]
    long = ast.parse("def g():\n" + "    x = 1\n" * 61).body[0]
    assert code_lines(short) == 2 and code_lines(long) == 61 > MAX_FUNCTION_LINES


# --------------------------------------------------------------------------------------------
# Import cycles
# --------------------------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(folder: str) -> dict[str, set[str]]:
    """Module -> the modules of ``folder`` it imports, at any depth of its code."""
    files = {module_name(path): path for path in sources(folder)}

    def lazy_names(package: str) -> dict[str, str]:
        module = importlib.import_module(package)  # package faces are light: names import on first use
        return {**getattr(module, "_EXPORTS", {}), **getattr(module, "_SUBMODULES", {})}

    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:
                    if f"{base}.{alias.name}" in files:
                        targets.add(f"{base}.{alias.name}")
                    elif base in files and files[base].name == "__init__.py" and alias.name in lazy_names(base):
                        targets.add(f"{base}.{lazy_names(base)[alias.name]}")
                    else:
                        targets.add(base)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("folder", ["multires", "ui"])
def test_no_import_cycle(folder):
    graph = import_graph(folder)
    assert len(graph) > 10 and any(graph.values())
    assert not cycles(graph), f"import cycles in {folder}: {cycles(graph)}"


def test_the_cycle_check_finds_a_cycle():
    """Control: a two-module loop and a three-module loop are found, a chain is not."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b"], ["c", "d", "e"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
