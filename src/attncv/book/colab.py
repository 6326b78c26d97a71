"""The first code cell of every chapter notebook, written once here.

Inside Google Colab it first checks for a GPU (torch ships with Colab), so a reader on a CPU
runtime learns it before anything slow happens and can switch; then it installs attncv from its
repository (torch and numpy stay as Colab ships them: attncv asks for ranges, never pins) and, on
a GPU runtime, downloads CIFAR-100 into the cache with a progress bar and a checksum
(:mod:`attncv.data.fetch`, with a mirror when the original host is slow). On a CPU runtime the
download waits until a cell needs the data. Nothing in it can abort "Run all": a failed install
or download prints what happened and what to do (``load_cifar`` falls back by itself). Anywhere
else it does nothing, so the same notebook runs locally and in CI.

The cell cannot import attncv before attncv is installed, so it is plain text, copied into each
notebook; ``tests/test_notebooks.py`` checks that every chapter's first code cell is exactly
:data:`FIRST_CELL`, and ``python -m attncv.book.colab NOTEBOOK...`` puts it there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

REPOSITORY = "https://github.com/attncv/attncv"  # must match repository: url in _config.yml

FIRST_CELL = f"""\
# In Google Colab only: check for a GPU first, then install attncv from its repository (torch and
# numpy stay as Colab ships them) and download CIFAR-100 (progress bar, checksum, mirror). No step
# can stop "Run all": a step that fails says why, and the notebook goes on.
import sys

if "google.colab" in sys.modules:
    import importlib.util

    import torch  # Colab ships torch, so the GPU is checked before anything slow happens

    gpu = torch.cuda.is_available()
    if not gpu:
        print(
            "No GPU in this runtime: training shrinks itself to a few minutes a chapter on the "
            "CPU. For the real run, choose Runtime > Change runtime type > T4 GPU now, then run "
            "all cells again (a new runtime starts from scratch, so nothing is downloaded yet)."
        )
    get_ipython().run_line_magic("pip", "install -q git+{REPOSITORY}")
    importlib.invalidate_caches()
    if importlib.util.find_spec("attncv") is None:
        print(
            "Installing attncv failed (pip says why above), and the cells below need it: check "
            "the runtime's internet connection, then run this cell again."
        )
    elif gpu:
        try:
            from attncv.data.fetch import fetch_cifar100

            fetch_cifar100()
        except Exception as exc:  # offline, throttled, disk full: load_cifar falls back
            print(
                f"CIFAR-100 could not be downloaded now ({{type(exc).__name__}}: {{exc}}). The "
                "notebook goes on: attncv.load_cifar tries again, then uses a substitute and "
                "says so."
            )"""
FIRST_CELL_TAGS = ["remove-cell"]  # the book's readers don't need it; Colab shows it


def set_first_cell(path: str) -> bool:
    """Make the first code cell of the notebook at ``path`` :data:`FIRST_CELL` (inserted before
    the first code cell if that one is something else); True if the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if code and nb.cells[code[0]].source == FIRST_CELL:
        return False
    if code and "google.colab" in nb.cells[code[0]].source:
        nb.cells[code[0]].source = FIRST_CELL
    else:
        cell = nbformat.v4.new_code_cell(FIRST_CELL, metadata={"tags": FIRST_CELL_TAGS})
        nb.cells.insert(code[0] if code else len(nb.cells), cell)
    nbformat.write(nb, path)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print(FIRST_CELL)
        return 0
    for path in paths:
        print(f"{path}: {'updated' if set_first_cell(path) else 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
