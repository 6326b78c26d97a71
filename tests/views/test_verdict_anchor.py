"""A verdict callout carries an anchor, so a chapter's first screen can link to it."""

from __future__ import annotations

import re

from attncv.views.evidence import Verdict, slug


def _ids(page: str) -> list[str]:
    return re.findall(r'<div class="attncv-verdict[^"]*" id="([^"]+)"', page)


def test_glue_names_the_callouts_anchor() -> None:
    v = Verdict("The map finds the object.", "r", holds=True).glue("sa-where")
    assert _ids(v._repr_html_()) == ["verdict-sa-where"]


def test_an_unglued_verdict_takes_its_anchor_from_the_papers_words() -> None:
    v = Verdict("SE's gates differ by class <b>late</b>!", "r", holds=None)
    assert _ids(v._repr_html_()) == ["verdict-se-s-gates-differ-by-class-b-late-b"]
    assert slug("!!!") == "verdict" and len(slug("word " * 40)) <= 48


def test_the_anchor_does_not_change_equality_or_the_record() -> None:
    a, b = Verdict("p", "r", holds=True), Verdict("p", "r", holds=True).glue("x")
    assert a == b and "anchor" not in a.record()
