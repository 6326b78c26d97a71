"""The book keeps a verdict's JSON record out of the page, without the warning that would fail
the -W build: attncv's mime renderer plugin, found by myst-nb through its entry point."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from attncv.book.records import RecordRenderer
from attncv.train.result import RUN_MIME
from attncv.views.verdicts import RECORD_MIME


def test_myst_nb_finds_the_plugin_and_it_renders_a_record_as_nothing() -> None:
    render = pytest.importorskip("myst_nb.core.render")
    assert RecordRenderer in render.load_mime_renders()  # the entry point (pip install -e .)
    for mime in (RECORD_MIME, RUN_MIME):
        assert RecordRenderer.handle_mime(None, SimpleNamespace(mime_type=mime), False) == []
    assert RecordRenderer.handle_mime(None, SimpleNamespace(mime_type="text/html"), False) is None


def test_a_page_never_selects_the_record() -> None:
    render = pytest.importorskip("myst_nb.core.render")
    overrides = [o for p in render.load_mime_renders() for o in p.mime_priority_overrides]
    for builder in ("html", "latex"):
        priority = render.get_mime_priority(builder, overrides)
        assert RECORD_MIME not in priority and RUN_MIME not in priority
