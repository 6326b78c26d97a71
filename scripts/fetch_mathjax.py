"""Copy MathJax 3 (``es5/tex-svg.js``) into ``_static/mathjax/`` so the book renders math offline.

The Sphinx book theme loads MathJax from a CDN by default, so without internet every formula
stays raw ``\\(x^2\\)``. The PyPI package ``django-static-mathjax`` (no dependencies) carries the
MathJax 3 distribution; this script copies its single-file SVG build into the book's static
folder, which ``_config.yml`` points at with ``mathjax_path: mathjax/tex-svg.js``.
``tex-svg.js`` draws glyphs as SVG paths and needs no font files.

Idempotent: the copy is skipped when the target already holds identical bytes.
Usage: ``python scripts/fetch_mathjax.py`` (the Makefile's ``book`` target runs it).
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "django-static-mathjax"
SOURCE_IN_PACKAGE = "mathjax/static/mathjax/es5/tex-svg.js"
BOOK_ROOT = Path(__file__).resolve().parent.parent
TARGET = BOOK_ROOT / "_static" / "mathjax" / "tex-svg.js"


def find_tex_svg() -> Path:
    """Return the path of ``es5/tex-svg.js`` inside the installed ``django-static-mathjax``."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        sys.exit(
            f"error: the Python package '{DISTRIBUTION}' is not installed, so MathJax cannot be "
            f"served offline.\nInstall it with: pip install '{DISTRIBUTION}>=3.2' "
            "(or pip install -e '.[book]')."
        )
    path = Path(dist.locate_file(SOURCE_IN_PACKAGE))
    if not path.is_file():
        sys.exit(
            f"error: '{DISTRIBUTION}' {dist.version} is installed but has no {SOURCE_IN_PACKAGE} "
            f"(looked at {path}); a MathJax 3 release of the package (>=3.2) is needed."
        )
    return path


def main() -> int:
    source = find_tex_svg()
    if TARGET.is_file() and filecmp.cmp(source, TARGET, shallow=False):
        print(f"MathJax already in place: {TARGET.relative_to(BOOK_ROOT)}")
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, TARGET)
    print(f"Copied MathJax {source} -> {TARGET.relative_to(BOOK_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
