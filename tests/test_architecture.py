"""The package's layout is its architecture: a folder per layer, imports running one way (checked
with import-linter, which counts imports inside functions too), no import cycles anywhere, and
every module importable on its own in a fresh interpreter, from the source tree."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
LAYERS = ["book", "bench", "exercises", "views", "train", "model", "attention", "data"]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(SRC))
    try:
        return grimp.build_graph("attncv", cache_dir=None)
    finally:
        sys.path.remove(str(SRC))


def test_import_linter_contracts_are_kept() -> None:
    """The contracts in pyproject.toml: the layers, env, a chapter's views independent of every
    other chapter's, and nothing in views importing what trains (run ``lint-imports`` to see the
    broken imports, with their lines, when this fails)."""
    code = (
        "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(SRC)},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 kept, 0 broken" in done.stdout


# What trains, as the train package exports it: views may read results, profiles and noise from
# train/, never run these (the "views-do-not-train" contract covers the train submodules).
TRAINS = {"fit", "train_model", "Step", "measure_noise"}


def _names_from_train(path: Path) -> set[str]:
    """The names ``path`` imports from the train layer (``from ..train import x``)."""
    tree = ast.parse(path.read_text())
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] == "train"
        and node.level == 2
        for alias in node.names
    }


def test_nothing_in_views_trains() -> None:
    views = sorted((SRC / "attncv" / "views").glob("*.py"))
    offenders = {p.name: _names_from_train(p) & TRAINS for p in views}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_views_check_sees_a_training_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from ..train import FitResult, fit\nfrom ..train.loop import Step\n")
    assert _names_from_train(bad) & TRAINS == {"fit", "Step"}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_the_package_root(graph: grimp.ImportGraph) -> None:
    """``from attncv import x`` inside the package would pull in every layer through
    ``attncv/__init__.py``: modules import the layer they need, relatively."""
    offenders = [m for m in graph.modules if "attncv" in graph.find_modules_directly_imported_by(m)]
    assert offenders == []


def test_the_top_level_is_layers_plus_a_handful() -> None:
    package = SRC / "attncv"
    folders = sorted(p.name for p in package.iterdir() if (p / "__init__.py").exists())
    modules = sorted(p.name for p in package.glob("*.py"))
    assert folders == sorted(LAYERS)
    assert modules == ["__init__.py", "env.py"]


SCRIPT = """
import importlib, pkgutil, sys
import attncv
names = sorted(m.name for m in pkgutil.walk_packages(attncv.__path__, "attncv."))
for name in names:
    for key in [k for k in sys.modules if k == "attncv" or k.startswith("attncv.")]:
        del sys.modules[key]
    try:
        importlib.import_module(name)
    except ImportError as error:
        sys.exit(f"importing {name} first fails: {error}")
print(len(names), attncv.__file__)
"""


@pytest.mark.slow
def test_each_module_imports_first_in_a_fresh_interpreter() -> None:
    """From the source tree (PYTHONPATH=src), installed or not: a cycle hidden in one import
    order breaks only when one particular module is imported first, so try each one first."""
    env = os.environ | {"PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    count, path = done.stdout.split()
    assert int(count) > 50 and Path(path).is_relative_to(SRC)


def test_no_file_of_the_library_or_the_scripts_is_over_500_lines() -> None:
    """One concept per file: a file past 500 lines is doing two jobs (split it)."""
    files = [*(SRC / "attncv").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]
    long = {
        str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > 500
    }
    assert len(files) > 100 and long == {}
