"""Sphinx extension: load the book's local MathJax copy exactly once, and fail loudly without it.

Jupyter Book 1.x adds every ``*.js`` file it finds under ``_static/`` to ``html_js_files``, so
``_static/mathjax/tex-svg.js`` (copied there by ``scripts/fetch_mathjax.py``) would be loaded
twice on every page: once by that scan, synchronously, and once by ``sphinx.ext.mathjax`` through
``mathjax_path``, deferred after its configuration. This extension drops the scan's entry (and a
``_static`` listed twice in ``html_static_path``), so only ``sphinx.ext.mathjax`` loads it, and
warns (an error under ``-W``) when the file is missing, instead of leaving formulas raw.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _filename(entry: str | tuple[str, dict]) -> str:
    return entry if isinstance(entry, str) else entry[0]


def _load_mathjax_once(app: Sphinx, config: Config) -> None:
    path = config.mathjax_path
    if "://" in path or path.startswith("/"):
        return  # a CDN or absolute URL: nothing local to check
    config.html_js_files = [e for e in config.html_js_files if _filename(e) != path]
    config.html_static_path = list(dict.fromkeys(config.html_static_path))
    found = any((Path(app.confdir) / static / path).is_file() for static in config.html_static_path)
    if not found:
        logger.warning(
            "MathJax is not in the book (%s under %s), so formulas would stay raw: run "
            "`python scripts/fetch_mathjax.py` (or `make book`) before building.",
            path,
            ", ".join(config.html_static_path) or "no html_static_path",
        )


def setup(app: Sphinx) -> dict[str, object]:
    # Before sphinx's own convert_html_js_files (priority 800) and before the builder reads them.
    app.connect("config-inited", _load_mathjax_once, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
