"""The graders read afresh from their files, for the autograder's test cells.

An answer cell runs in the same Python process as the test cell below it, so it can change what
grades it: ``attncv.exercises.channel.check_se = lambda *a, **k: ...``, the rule
(``honesty.borrowed``), or the reference it is compared with (``registry.REGISTRY``,
``SE.forward``). The nbgrader test cells (:mod:`attncv.book.assign`) therefore call the graders
through :func:`graders`, which loads a private copy of the library from its files, under a new,
random package name and with Python's standard import machinery only: nothing an answer cell
changed in the ``attncv`` modules, or in ``sys.meta_path``, reaches that copy. The copy treats
``attncv``'s objects as its own where the rule needs it (the helpers an exercise hands out, the
class residual attention subclasses: :func:`attncv.exercises.honesty.same`).

This makes cheating harder, not impossible: the answer cell can still replace this module's
:func:`graders`, change torch or Python's builtins, or reach the grader's objects through the
garbage collector. Code that runs in the grader's process can always change the grader.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import secrets
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

PACKAGE = Path(__file__).resolve().parents[1]  # the attncv package's folder
MODULES = ("baseline", "benchmark", "channel", "explorers", "mixed", "spatial")


def load(modules: tuple[str, ...] = MODULES) -> dict[str, ModuleType]:
    """A private copy of ``attncv.exercises.<name>`` for each name (and of the library modules
    they import), read from the package's files."""
    root = f"_attncv_fresh_{secrets.token_hex(8)}"
    spec = importlib.util.spec_from_file_location(
        root, PACKAGE / "__init__.py", submodule_search_locations=[str(PACKAGE)]
    )
    assert spec is not None
    package = importlib.util.module_from_spec(spec)  # not executed: it would import every layer
    machinery = importlib.machinery
    finders = [machinery.BuiltinImporter, machinery.FrozenImporter, machinery.PathFinder]
    saved = sys.meta_path[:]
    sys.meta_path[:] = finders  # an answer cell's import hook cannot serve the copy
    try:
        sys.modules[root] = package
        return {name: importlib.import_module(f"{root}.exercises.{name}") for name in modules}
    finally:
        sys.meta_path[:] = saved


def graders() -> SimpleNamespace:
    """Every chapter's grader (``check_se``, ``check_top5_mean``, ...) from a fresh copy."""
    found: dict[str, object] = {}
    for module in load().values():
        found.update({k: v for k, v in vars(module).items() if k.startswith("check_")})
    return SimpleNamespace(**found)
