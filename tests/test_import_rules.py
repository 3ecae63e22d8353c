"""The seams between the project's parts, read from the code's own imports (no server, no Django).

Every import counts, at module level or inside a function: a cycle through a function-level
import is still a cycle, only a later one. The rules: no import cycle between modules;
``findings`` never imports ``acceptances`` (the scan side names hooks in ``findings.hooks`` and
the treatment side fulfils them); the checks (``findings/checks/``) and what they import of the
project never import Django or boto3; production code never imports the simulated account.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cspm", "findings", "acceptances", "simulation")
# Third-party packages the checks must not need (pure functions over plain data).
IMPURE = ("django", "boto3", "botocore", "rest_framework", "celery")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _imported(module: str, path: Path) -> set[str]:
    """Every module name an import statement anywhere in the file names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            names.add(stem)
            # "from package import module" imports the module.
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (a package import reaches its
    ``__init__``, and importing ``a.b.c`` runs ``a`` and ``a.b`` first)."""
    modules = _project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for name in _imported(module, path):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in modules and prefix != module and not module.startswith(prefix + "."):
                    edges.add(prefix)
        graph[module] = edges
    return graph


def _third_party(module: str) -> set[str]:
    return {name.split(".")[0] for name in _imported(module, _project_modules()[module])}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _reachable(graph: dict[str, set[str]], start: set[str]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_there_is_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_findings_never_imports_acceptances() -> None:
    graph = _graph()
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "findings"
        for target in targets
        if target.split(".")[0] == "acceptances"
    )
    assert wrong == []


def test_checks_import_neither_django_nor_boto3() -> None:
    graph = _graph()
    checks = {m for m in graph if m == "findings.checks" or m.startswith("findings.checks.")}
    # What the checks import of the project counts too (the toolbox they share with collectors).
    reached = {m for m in _reachable(graph, checks) if m not in ("findings",)}
    wrong = sorted(
        f"{module} imports {name}"
        for module in reached
        for name in _third_party(module)
        if name in IMPURE
    )
    assert wrong == []
    outside = sorted(
        m for m in reached if not m.startswith(("findings.checks", "findings.toolbox"))
    )
    assert outside == []


def test_production_code_never_imports_the_simulated_account() -> None:
    graph = _graph()
    # The demo command is the one product part that starts the simulated account.
    allowed = {"cspm.management.commands.demo"}
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.split(".")[0] != "simulation" and module not in allowed
        for target in targets
        if target.split(".")[0] == "simulation"
    )
    assert wrong == []


def test_the_rules_see_imports_inside_functions(tmp_path: Path) -> None:
    # The reader must count a function-level import: the old loop ran through those.
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from acceptances import tasks\n")
    assert "acceptances.tasks" in _imported("findings.m", path)
