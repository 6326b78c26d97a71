"""`pip install attncv` brings everything the library, its tools and the notebooks import; what
stays optional (timm, pyarrow) fails with an install hint instead of a bare traceback."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# import name -> why it may be missing: each has a test that its absence gives an install hint
OPTIONAL = {
    "timm": "the bench extra; tests/bench/test_modules.py: test_timm_without_timm_gives_a_hint",
    "pyarrow": "the mirror only; tests/data/test_fetch.py: test_the_mirror_without_pyarrow_hints_*",
    "ray": "the cluster extra; tests/bench/test_cluster.py: "
    "test_without_ray_several_devices_give_the_install_line",
}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.\-]+", requirement).group()).lower()


def _declared() -> set[str]:
    """The declared dependencies and everything they require in turn (installed here)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo, seen = [_name(r) for r in project["dependencies"]], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def _imports(source: str) -> set[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level import names outside the standard library -> the files that import them."""
    found: dict[str, set[str]] = {}
    sources = [(p, p.read_text()) for p in (ROOT / "src" / "attncv").rglob("*.py")]
    for path in sorted((ROOT / "chapters").rglob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        code = [c.source for c in cells if c.cell_type == "code"]
        lines = (
            ln for c in code for ln in c.splitlines() if not ln.lstrip().startswith(("%", "!"))
        )
        sources.append((path, "\n".join(lines)))
    for path, source in sources:
        for name in _imports(source) - set(sys.stdlib_module_names) - {"attncv"}:
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_of_the_library_and_notebooks_is_declared() -> None:
    """ipywidgets (explorers, tqdm's bars) and nbformat (python -m attncv.book.student) were
    missing from `pip install attncv`."""
    declared, distributions = _declared(), metadata.packages_distributions()
    missing = {
        name: sorted(files)
        for name, files in _third_party_imports().items()
        if name not in OPTIONAL
        and not {_name(d) for d in distributions.get(name, [name])} & declared
    }
    assert not missing, f"declare these in pyproject.toml's dependencies: {missing}"


@pytest.mark.parametrize("name", ["ipywidgets", "nbformat"])
def test_what_the_notebooks_need_is_a_default_dependency(name: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert name in {_name(r) for r in project["dependencies"]}
    assert "torch>=2.2" in project["dependencies"]  # a range, never a pin
