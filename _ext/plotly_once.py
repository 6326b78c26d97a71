"""Sphinx extension: plotly.js served by the book, loaded once on each page with an explorer.

The explorers of ``attncv.views.explore`` draw with plotly. Their outputs hold no plotly code: on
a page that has one (its HTML carries ``data-attncv-explorer``) this adds a single deferred
``<script src="_static/plotly/plotly.min.js">``, however many explorers the page has, and no
script at all to the other pages. The file is copied at the end of the build from the installed
``plotly`` package (its ``package_data/plotly.min.js``), so the book works offline and needs no
CDN; without plotly installed, a page with an explorer gets a warning (an error under ``-W``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
MARK = "data-attncv-explorer"
TARGET = "plotly/plotly.min.js"  # under the build's _static/


def _bundle() -> Path | None:
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def _add_to_explorer_pages(app: Sphinx, pagename: str, templatename: str, context: dict, doctree):
    if MARK not in context.get("body", ""):
        return
    if _bundle() is None:
        logger.warning(
            "%s has an attention explorer but plotly is not installed, so it would not draw: "
            "pip install plotly (or pip install -e .).",
            pagename,
        )
        return
    app.add_js_file(TARGET, loading_method="defer")  # this page only (Sphinx >= 3.5)
    app.env.attncv_plotly = True


def _copy_bundle(app: Sphinx, exception: Exception | None) -> None:
    source = _bundle()
    if exception is not None or app.builder.format != "html" or source is None:
        return
    target = Path(app.outdir) / "_static" / TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("html-page-context", _add_to_explorer_pages)
    app.connect("build-finished", _copy_bundle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
