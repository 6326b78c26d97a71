"""Number exercises per page: 1, 2, 3 on every chapter, not 1-44 across the whole book.

sphinx-exercise numbers its ``{exercise}`` directives with Sphinx's numfig, which counts across
the book. Each chapter is read on its own and its student copy (``python -m attncv.book.student``)
counts per notebook, so the book counts per page too: after Sphinx assigns the figure numbers,
every page's exercises are renumbered from 1 in page order. References (``{ref}``, ``{numref}``)
read the same numbers.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def renumber(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """After the toctree collector (priority 500) numbered the book, number each page from 1;
    those pages are rewritten (their numbers differ from the collector's)."""
    pages = []
    for docname, kinds in env.toc_fignumbers.items():
        numbers = kinds.get("exercise")
        if numbers:
            ordered = sorted(numbers, key=lambda key: numbers[key])  # page order
            for i, key in enumerate(ordered, start=1):
                numbers[key] = (i,)
            pages.append(docname)
    return pages


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("env-get-updated", renumber, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
