"""Every module of the package imports on its own, whichever comes first (no import cycles)."""

from __future__ import annotations

import subprocess
import sys

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
print(len(names))
"""


def test_each_module_imports_first_in_a_fresh_package() -> None:
    """A cycle such as bench -> timm_compare -> bench_attention -> bench only breaks when one
    particular module is imported first, so try each one first."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) > 30  # it really walked the package
