"""The first code cell of every chapter notebook, written once here.

Inside Google Colab it installs attncv from its repository (torch and numpy stay as Colab ships
them: attncv asks for ranges, never pins), downloads CIFAR-100 into the cache with a progress bar
and a checksum (:mod:`attncv.data.fetch`, with a mirror when the original host is slow) and says
so when the runtime has no GPU. Anywhere else it does nothing, so the same notebook runs locally
and in CI.

The cell cannot import attncv before attncv is installed, so it is plain text, copied into each
notebook; ``tests/test_notebooks.py`` checks that every chapter's first code cell is exactly
:data:`FIRST_CELL`, and ``python -m attncv.book.colab NOTEBOOK...`` puts it there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

REPOSITORY = "https://github.com/attncv/attncv"  # must match repository: url in _config.yml

FIRST_CELL = f"""\
# In Google Colab only: install attncv from its repository (torch and numpy stay as Colab ships
# them), download CIFAR-100 (progress bar, checksum, mirror fallback) and check for a GPU.
import sys

if "google.colab" in sys.modules:
    get_ipython().run_line_magic("pip", "install -q git+{REPOSITORY}")
    import torch
    from attncv.data.fetch import fetch_cifar100

    fetch_cifar100()
    if not torch.cuda.is_available():
        print(
            "No GPU: training shrinks itself to about a minute on the CPU. For the real run, "
            "choose Runtime > Change runtime type > T4 GPU, then run all cells again."
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
