"""Mutation testing of the checks and the zone rules: how many small wrong edits do the tests catch?

    .venv/bin/python bench/mutation.py                       # every check module and zone rules
    .venv/bin/python bench/mutation.py --module findings/checks/s3.py \
        --tests tests/checks/test_s3.py
    .venv/bin/python bench/mutation.py --sample 60 --seed 1  # 60 mutants per module
    .venv/bin/python bench/mutation.py --list --module findings/checks/kms.py

A small AST mutator, written here because mutmut skips decorated functions and every check is
decorated. Each mutant is one edit: a comparison flipped (``==``/``!=``, ``<``/``<=``, ``in``/
``not in``, ``is``/``is not``), ``and``/``or`` swapped, a ``not`` removed, an arithmetic operator
swapped, a constant changed (numbers ±1, strings altered, ``True``/``False``), one element dropped
from a list, tuple or set display, or a boolean return value negated. Strings that contain
whitespace are sentences for people (evidence summaries, titles, error messages) and are left
alone unless ``--text``; docstrings, annotations and ``__all__`` always are.

Mutants run one at a time: the mutated source is written over the module, the module's pure tests
run in a subprocess (``-x -q -p no:cacheprovider``), and the original is written back (also on
Ctrl-C or SIGTERM; a run killed outright leaves ``<module>.mutation-orig`` beside the module,
which the next run puts back first). A mutant is killed when the tests fail or time out.

By default the tests run without the project's conftest and without entry-point plugins (the
check and zone-rule tests are pure; hypothesis and schemathesis alone cost ~3 s of start-up per
mutant); ``--full-pytest`` keeps both. ``--jobs N`` runs N mutants side by side, each in its own
scratch copy of the tree (the original files are then never touched). The machine this runs on
is usually shared, so the default is one.

Not part of CI: a full run takes tens of minutes. It prints, per module, mutants killed over
mutants run, and every surviving mutant as ``file:line:col: change``, so a person can judge each
survivor: a missing test, or an equivalent mutant (one no input can tell apart).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKUP_SUFFIX = ".mutation-orig"

# Which pure tests speak for which module (the default run).
REGISTRY_TESTS = "tests/checks/test_registry.py"  # which control each check is filed under
DEFAULT_TARGETS: list[tuple[str, list[str]]] = [
    ("findings/checks/accessanalyzer.py", ["tests/checks/test_accessanalyzer.py"]),
    ("findings/checks/cloudtrail.py", ["tests/checks/test_logging.py"]),
    ("findings/checks/config.py", ["tests/checks/test_logging.py"]),
    ("findings/checks/ec2.py", ["tests/checks/test_ec2.py"]),
    ("findings/checks/efs.py", ["tests/checks/test_data_services.py"]),
    ("findings/checks/iam.py", ["tests/checks/test_iam.py"]),
    ("findings/checks/kms.py", ["tests/checks/test_logging.py"]),
    (
        "findings/checks/monitoring.py",
        ["tests/checks/test_monitoring.py", "tests/checks/test_monitoring_benchmark_patterns.py"],
    ),
    ("findings/checks/rds.py", ["tests/checks/test_data_services.py"]),
    ("findings/checks/s3.py", ["tests/checks/test_s3.py"]),
    ("findings/checks/securityhub.py", ["tests/checks/test_monitoring.py"]),
]
DEFAULT_TARGETS = [(module, [*tests, REGISTRY_TESTS]) for module, tests in DEFAULT_TARGETS]
DEFAULT_TARGETS.append(("acceptances/zones.py", ["tests/acceptances/test_zone_rules.py"]))

COMPARE_SWAPS: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.Gt],
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.Lt],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
}
SYMBOLS: dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.And: "and", ast.Or: "or",
}  # fmt: skip
BOOLEAN_CALLS = {"any", "all", "isinstance", "bool", "callable", "hasattr"}


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to ROOT
    index: int  # position among the module's mutation sites (stable for a given source)
    line: int
    col: int
    change: str

    def where(self) -> str:
        return f"{self.module}:{self.line}:{self.col + 1}"


@dataclass
class Site:
    line: int
    col: int
    change: str
    apply: Callable[[], None]


def _short(node: ast.AST, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    """id(node) -> (parent, field, index in the field's list or None)."""
    found: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        found[id(child)] = (parent, name, i)
            elif isinstance(value, ast.AST):
                found[id(value)] = (parent, name, None)
    return found


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Nodes no mutant touches: docstrings, annotations, ``__all__``."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                roots.append(body[0])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            roots.append(node.returns)
        if isinstance(node, ast.arg) and node.annotation:
            roots.append(node.annotation)
        if isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        if isinstance(node, ast.JoinedStr):
            # f-strings build text for people (summaries) or identifiers (ARNs), not verdicts;
            # the expressions inside them are still mutated.
            for part in node.values:
                if isinstance(part, ast.Constant):
                    roots.append(part)
                elif isinstance(part, ast.FormattedValue) and part.format_spec:
                    roots.append(part.format_spec)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            roots.append(node)
        if _is_text(node):
            # A string glued to a sentence ("... " + ("enabled." if on else "disabled.")) is
            # part of that sentence.
            roots.extend(
                child
                for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.Constant) and isinstance(child.value, str)
            )
    skipped: set[int] = set()
    for root in roots:
        skipped.update(id(n) for n in ast.walk(root))
    return skipped


def _is_text(node: ast.AST) -> bool:
    """A concatenation or conditional expression that builds a sentence for people."""
    if not (
        isinstance(node, ast.IfExp)
        or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add))
    ):
        return False
    for part in ast.walk(node):
        if isinstance(part, ast.JoinedStr):
            return True
        if (
            isinstance(part, ast.Constant)
            and isinstance(part.value, str)
            and any(ch.isspace() for ch in part.value)
        ):
            return True
    return False


def _boolean_functions(tree: ast.Module) -> dict[int, bool]:
    """id(Return node) -> whether its function is annotated ``-> bool``."""
    found: dict[int, bool] = {}

    def visit(node: ast.AST, in_bool: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                returns = getattr(child, "returns", None)
                visit(child, isinstance(returns, ast.Name) and returns.id == "bool")
            else:
                if isinstance(child, ast.Return):
                    found[id(child)] = in_bool
                visit(child, in_bool)

    visit(tree, False)
    return found


def _looks_boolean(node: ast.expr) -> bool:
    if isinstance(node, ast.Compare | ast.BoolOp):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in BOOLEAN_CALLS
    )


def sites(tree: ast.Module, include_text: bool = False) -> list[Site]:
    """Every single-edit mutation of ``tree``, in a stable order. Applying one edits ``tree``."""
    parents = _parents(tree)
    skipped = _skipped_nodes(tree)
    boolean_returns = _boolean_functions(tree)
    found: list[Site] = []

    def replace(node: ast.AST, new: ast.AST) -> Callable[[], None]:
        parent, name, index = parents[id(node)]

        def apply() -> None:
            if index is None:
                setattr(parent, name, new)
            else:
                getattr(parent, name)[index] = new

        return apply

    def add(node: ast.AST, change: str, apply: Callable[[], None]) -> None:
        found.append(Site(node.lineno, node.col_offset, change, apply))  # type: ignore[attr-defined]

    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for swap in COMPARE_SWAPS.get(type(op), []):

                    def flip(node: ast.Compare = node, i: int = i, swap: type = swap) -> None:
                        node.ops[i] = swap()

                    add(node, f"{SYMBOLS[type(op)]!r} -> {SYMBOLS[swap]!r}", flip)
        elif isinstance(node, ast.BoolOp):
            other = ast.Or if isinstance(node.op, ast.And) else ast.And

            def swap_bool(node: ast.BoolOp = node, other: type = other) -> None:
                node.op = other()

            add(node, f"{SYMBOLS[type(node.op)]!r} -> {SYMBOLS[other]!r}", swap_bool)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add(node, f"'not {_short(node.operand)}' -> drop 'not'", replace(node, node.operand))
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in BINOP_SWAPS:
            swap_to = BINOP_SWAPS[type(node.op)]

            def swap_op(node: ast.BinOp | ast.AugAssign = node, swap_to: type = swap_to) -> None:
                node.op = swap_to()

            add(node, f"{SYMBOLS[type(node.op)]!r} -> {SYMBOLS[swap_to]!r}", swap_op)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                add(node, f"{value} -> {not value}", replace(node, ast.Constant(not value)))
            elif isinstance(value, int | float):
                for delta in (1, -1):
                    new_value = value + delta
                    add(node, f"{value!r} -> {new_value!r}", replace(node, ast.Constant(new_value)))
            elif isinstance(value, str):
                if not include_text and any(ch.isspace() for ch in value):
                    continue
                new_text = f"XX{value}XX"
                add(node, f"{value!r} -> {new_text!r}", replace(node, ast.Constant(new_text)))
        elif isinstance(node, ast.List | ast.Tuple | ast.Set) and isinstance(
            getattr(node, "ctx", None), ast.Load | None
        ):
            for i, element in enumerate(node.elts):
                if isinstance(element, ast.Starred):
                    continue
                kept = [e for j, e in enumerate(node.elts) if j != i]
                if isinstance(node, ast.Set):
                    # An empty set display does not exist: ``{}`` is a dict.
                    new: ast.expr = (
                        ast.Set(elts=kept)
                        if kept
                        else ast.Call(ast.Name("set", ast.Load()), [], [])
                    )
                else:
                    new = type(node)(elts=kept, ctx=ast.Load())
                add(node, f"drop {_short(element)} from {_short(node)}", replace(node, new))
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and (boolean_returns.get(id(node)) or _looks_boolean(node.value))
        ):

            def negate(node: ast.Return = node) -> None:
                node.value = ast.UnaryOp(ast.Not(), node.value)

            add(node, f"return {_short(node.value)} -> return not (...)", negate)
    return found


def mutants_of(module: str, source: str, include_text: bool) -> list[Mutant]:
    tree = ast.parse(source)
    found = [
        Mutant(module, i, s.line, s.col, s.change) for i, s in enumerate(sites(tree, include_text))
    ]
    return sorted(found, key=lambda m: (m.line, m.col, m.index))


def mutated_source(source: str, index: int, include_text: bool) -> str:
    tree = ast.parse(source)
    sites(tree, include_text)[index].apply()
    return ast.unparse(ast.fix_missing_locations(tree))


# -- running ---------------------------------------------------------------------------------


class Runner:
    """Runs a module's tests in a tree (the real one, or a scratch copy for ``--jobs``)."""

    def __init__(self, root: Path, full_pytest: bool, timeout: float) -> None:
        self.root = root
        self.full_pytest = full_pytest
        self.timeout = timeout

    def command(self, tests: list[str]) -> list[str]:
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
        if not self.full_pytest:
            command.append("--noconftest")
        return [*command, *tests]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Never write bytecode: a mutant's .pyc must not outlive it (same size, same second).
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if not self.full_pytest:
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        return env

    def tests_pass(self, tests: list[str]) -> tuple[bool, str]:
        try:
            done = subprocess.run(
                self.command(tests),
                cwd=self.root,
                env=self.environment(),
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            return False, "timeout"
        return done.returncode == 0, "" if done.returncode == 0 else done.stdout[-2000:]

    @contextlib.contextmanager
    def mutated(self, module: str, text: str) -> Iterator[None]:
        path = self.root / module
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        shutil.copy2(path, backup)  # kept until the original is back, for a killed run
        original = path.read_bytes()
        stat = path.stat()
        try:
            path.write_text(text)
            yield
        finally:
            path.write_bytes(original)
            # Put the mtime back too, so the original's cached bytecode stays valid.
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            backup.unlink()


def recover_killed_run(modules: list[str]) -> None:
    for module in modules:
        path = ROOT / module
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        if backup.exists():
            shutil.copy2(backup, path)
            backup.unlink()
            print(f"restored {module} from {backup.name}, left by a run that was killed")


def scratch_copy(into: Path) -> Path:
    target = into / "tree"
    shutil.copytree(
        ROOT,
        target,
        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "node_modules", "var"),
        symlinks=True,
    )
    return target


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--module", action="append", default=[], help="a module to mutate (repeatable)"
    )
    parser.add_argument(
        "--tests",
        action="append",
        default=[],
        help="the tests for the --module of the same rank (comma-separated paths)",
    )
    parser.add_argument("--sample", type=int, default=0, help="run N random mutants per module")
    parser.add_argument("--seed", type=int, default=0, help="seed for --sample")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run side by side")
    parser.add_argument("--text", action="store_true", help="also alter strings with spaces")
    parser.add_argument("--full-pytest", action="store_true", help="load conftest and plugins")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="mutate a scratch copy of the tree even with one job (keeps the tree editable)",
    )
    parser.add_argument("--timeout", type=float, default=0, help="seconds per mutant (default: "
                        "10x the clean run, at least 30)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.tests and len(args.tests) != len(args.module):
        parser.error("give one --tests per --module, in the same order")
    if args.module and not args.tests:
        known = dict(DEFAULT_TARGETS)
        unknown = [m for m in args.module if m not in known]
        if unknown:
            parser.error(f"no default tests for {', '.join(unknown)}: pass --tests")
        args.targets = [(m, known[m]) for m in args.module]
    elif args.module:
        args.targets = [(m, t.split(",")) for m, t in zip(args.module, args.tests, strict=True)]
    else:
        args.targets = DEFAULT_TARGETS
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    recover_killed_run([m for m, _ in args.targets])

    # SIGTERM (and a closed terminal) unwind like Ctrl-C, through the finally that restores.
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with contextlib.suppress(AttributeError, ValueError):
        signal.signal(signal.SIGHUP, interrupted)

    plan: list[tuple[str, list[str], str, list[Mutant]]] = []
    for module, tests in args.targets:
        source = (ROOT / module).read_text()
        mutants = mutants_of(module, source, args.text)
        if args.sample and args.sample < len(mutants):
            chosen = random.Random(f"{args.seed}:{module}").sample(mutants, args.sample)
            mutants = sorted(chosen, key=lambda m: (m.line, m.col, m.index))
        plan.append((module, tests, source, mutants))

    if args.list:
        for _, _, _, mutants in plan:
            for mutant in mutants:
                print(f"{mutant.where()}: {mutant.change}")
        return 0

    scratch: list[tempfile.TemporaryDirectory[str]] = []
    runners: list[Runner] = []
    try:
        if args.jobs == 1 and not args.scratch:
            runners.append(Runner(ROOT, args.full_pytest, args.timeout))
        else:
            for _ in range(args.jobs):
                holder = tempfile.TemporaryDirectory(prefix="cspm-mutation-")
                scratch.append(holder)
                runners.append(Runner(scratch_copy(Path(holder.name)), args.full_pytest, 0))
        return run_plan(plan, runners, args)
    except KeyboardInterrupt:
        print("\ninterrupted: every module is back to its original source", file=sys.stderr)
        return 130
    finally:
        for holder in scratch:
            holder.cleanup()


def run_plan(
    plan: list[tuple[str, list[str], str, list[Mutant]]],
    runners: list[Runner],
    args: argparse.Namespace,
) -> int:
    started = time.monotonic()
    totals: list[tuple[str, int, int, int]] = []
    all_survivors: list[Mutant] = []
    for module, tests, source, mutants in plan:
        # The unmutated module, as the mutator writes it (comments gone), must pass its tests,
        # or every mutant would count as killed.
        clean_started = time.monotonic()
        runners[0].timeout = 600.0
        with runners[0].mutated(module, ast.unparse(ast.parse(source))):
            ok, output = runners[0].tests_pass(tests)
        clean_seconds = time.monotonic() - clean_started
        if not ok:
            print(f"{module}: the tests fail without any mutant, skipped\n{output}")
            continue
        timeout = args.timeout or max(30.0, 10 * clean_seconds)
        for runner in runners:
            runner.timeout = timeout

        free = list(runners)
        lock = threading.Lock()
        survivors: list[Mutant] = []
        timeouts = 0

        def run_one(
            mutant: Mutant,
            module: str = module,
            tests: list[str] = tests,
            source: str = source,
            free: list[Runner] = free,
            lock: threading.Lock = lock,
        ) -> tuple[Mutant, bool, str]:
            with lock:
                runner = free.pop()
            try:
                text = mutated_source(source, mutant.index, args.text)
                with runner.mutated(module, text):
                    passed, output = runner.tests_pass(tests)
                return mutant, passed, output
            finally:
                with lock:
                    free.append(runner)

        print(f"{module}: {len(mutants)} mutants against {' '.join(tests)}", flush=True)
        if len(runners) == 1:
            outcomes: Iterator[tuple[Mutant, bool, str]] = map(run_one, mutants)
            executor = None
        else:
            executor = concurrent.futures.ThreadPoolExecutor(len(runners))
            outcomes = executor.map(run_one, mutants)
        try:
            for done, (mutant, passed, output) in enumerate(outcomes, 1):
                if passed:
                    survivors.append(mutant)
                    print(f"  survived {mutant.where()}: {mutant.change}", flush=True)
                elif output == "timeout":
                    timeouts += 1
                if done % 25 == 0:
                    print(f"  ... {done}/{len(mutants)}", flush=True)
        finally:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        killed = len(mutants) - len(survivors)
        totals.append((module, len(mutants), killed, timeouts))
        all_survivors.extend(survivors)

    print("\nscore per module (killed / run; a timeout counts as killed)")
    for module, run_count, killed, timeouts in totals:
        score = 100.0 * killed / run_count if run_count else 100.0
        extra = f", {timeouts} by timeout" if timeouts else ""
        print(f"  {module:40} {killed:4d} / {run_count:4d}  {score:5.1f}%{extra}")
    all_run = sum(t[1] for t in totals)
    all_killed = sum(t[2] for t in totals)
    if all_run:
        print(f"  {'all':40} {all_killed:4d} / {all_run:4d}  {100.0 * all_killed / all_run:5.1f}%")
    print(f"\nsurviving mutants ({len(all_survivors)}):")
    for mutant in all_survivors:
        print(f"  {mutant.where()}: {mutant.change}")
    print(f"\n{time.monotonic() - started:.0f} s; command: {' '.join(sys.argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
