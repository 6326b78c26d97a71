"""Sphinx extension: write each ``<script>`` of a page once.

With Jupyter Book 1.0.4 (Sphinx 7.4), sphinx-thebe's and sphinx-togglebutton's inline
configuration scripts are added to every page twice. The second ``const THEBE_JS_URL = ...``
then throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser's console on
every page (``tests/browser/test_book.py`` fails on console errors). This drops exact repeats
from the page's script list just before the page is written (an inline script is listed once
with the file name None and once with "", so those count as the same).
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _key(script: object) -> tuple[str, str]:
    attributes = getattr(script, "attributes", {})
    return str(getattr(script, "filename", script) or ""), repr(sorted(attributes.items()))


def _drop_repeats(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = [s for s in scripts if not (_key(s) in seen or seen.add(_key(s)))]
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("html-page-context", _drop_repeats, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
