"""The browser test's lesson checks flag each defect they are meant to find.

Each test writes a tiny page into a temporary folder (a chapter as the book renders it: a title,
glued values as myst-nb writes them, a verdict callout), with the defect put back or not, opens
it in the same headless Chromium at 1280 px, and asserts what ``tests/browser/lesson.py``
reports. Skips without Chromium, like the book test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import lesson
from .test_book import serve

FINDING = "The trained map puts more of its weight on the object than chance weights do."
CALLOUT = (
    "<div class='cell_output'><div class='output text_html'>"
    "<div class='attncv-verdict attncv-verdict-holds' id='verdict-x-where' role='note'>"
    "<p class='attncv-verdict-title'>Verdict: holds</p>"
    f"<p><b>In words:</b> {FINDING}</p></div></div></div>"
)
TALL = "<p style='height: 1400px'>The idea, the formulas, the module and its training.</p>"


def glued(text: str) -> str:  # a {glue:text} as myst-nb renders it
    return f"<span class='pasted-text'>{text}</span>"


def page(body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        f"<article class='bd-article'><h1>A chapter</h1>{body}</article></body></html>"
    )


FIRST_SCREEN = (
    f"<p>What this run found: {glued(FINDING)} <a href='#verdict-x-where'>(details)</a></p>"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lesson")


@pytest.fixture(scope="module")
def url(folder: Path):
    with serve(folder) as address:
        yield address


def reading(browser, url: str, folder: Path, name: str, body: str) -> dict:
    (folder / name).write_text(page(body), encoding="utf-8")
    browser.get(url + name)
    result = lesson.read(browser)
    assert "error" not in result, result
    return result


def test_a_chapter_with_its_first_screen_and_the_finding_twice_passes(browser, url, folder):
    r = reading(browser, url, folder, "good.html", FIRST_SCREEN + TALL + CALLOUT)
    assert lesson.no_first_screen(r) == [] and lesson.repeated_findings(r) == []
    assert r["counts"] == [[FINDING, 2]]


def test_a_chapter_whose_finding_is_below_the_first_screen_is_flagged(browser, url, folder):
    """The defect of issue 26: the idea first, the finding glued only far down the page."""
    r = reading(browser, url, folder, "late.html", TALL + f"<p>{glued(FINDING)}</p>" + CALLOUT)
    assert len(lesson.no_first_screen(r)) == 1
    r = reading(browser, url, folder, "none.html", TALL + CALLOUT)  # no glue at all
    assert len(lesson.no_first_screen(r)) == 1


def test_a_finding_said_three_times_is_flagged(browser, url, folder):
    """The defect of issue 26: callout, "In words: ..." after it, and the summary again."""
    again = f"<p>In words: <b>{FINDING}</b></p>"
    r = reading(browser, url, folder, "thrice.html", FIRST_SCREEN + TALL + CALLOUT + again)
    problems = lesson.repeated_findings(r)
    assert len(problems) == 1 and problems[0].startswith("3 times: 'The trained map")
