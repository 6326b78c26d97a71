"""The browser test's layout checks flag each defect they are meant to find.

Each test builds a tiny page in a temporary folder (with the book's own ``_static/attncv.css``,
or without it, or with the defect put in), opens it in the same headless Chromium as
``test_book.py``, at 1280 px or on the emulated 390-px phone, and asserts what
``tests/browser/layout.py`` reports. Skips without Chromium, like the book test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from . import layout
from .test_book import ROOT, serve

LONG = "epoch 8: train loss 0.8123, test loss 0.9034, test accuracy 62.4%, " * 3
CSS = '<link rel="stylesheet" href="attncv.css">'


def page(body: str, css: bool = True) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"{CSS if css else ''}</head><body><article class='bd-article'>{body}</article>"
        "</body></html>"
    )


def output(text: str) -> str:  # a cell's printed output, as myst-nb writes it
    return (
        "<div class='cell docutils container'><div class='cell_output docutils container'>"
        "<div class='output stream highlight-myst-ansi notranslate'><div class='highlight'>"
        f"<pre>{text}</pre></div></div></div></div>"
    )


def code_cell(text: str) -> str:
    return (
        "<div class='cell docutils container'><div class='cell_input docutils container'>"
        "<div class='highlight-ipython3 notranslate'><div class='highlight'>"
        f"<pre>{text}</pre></div></div></div></div>"
    )


def prose_code(text: str) -> str:
    return (
        "<div class='highlight-text notranslate'><div class='highlight'>"
        f"<pre>{text}</pre></div></div>"
    )


def figure(src: str, attrs: str = "") -> str:
    return (
        "<div class='cell docutils container'><div class='cell_output docutils container'>"
        f"<img src='{src}' alt='a figure' {attrs}></div></div>"
    )


VERDICT = (
    "<div class='cell docutils container'><div class='cell_output docutils container'>"
    "<div class='output text_html'><div class='attncv-verdict attncv-verdict-holds' role='note'>"
    "<p class='attncv-verdict-title'>Verdict: holds</p>"
    f"<p><b>This run:</b> {LONG.replace(' ', '_')}</p>"
    "<div class='attncv-table'><table><tr>" + "<td>0.123456789</td>" * 14 + "</tr></table></div>"
    "</div><details class='attncv-log' open><summary>"
    + LONG
    + "</summary><pre>"
    + ("epoch  train loss  test loss  test acc  seconds  images/s  lr\n" * 4)
    + "</pre></details></div></div></div>"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("layout")
    shutil.copy(ROOT / "_static" / "attncv.css", d / "attncv.css")
    for name, width in (("fig600.png", 600), ("fig1000.png", 1000), ("fig1200.png", 1200)):
        Image.fromarray(np.full((width // 3, width, 3), 200, np.uint8)).save(d / name)
    return d


@pytest.fixture(scope="module")
def url(folder: Path):
    with serve(folder) as address:
        yield address


def measured(driver, url: str, folder: Path, name: str, html: str) -> dict:
    (folder / name).write_text(html, encoding="utf-8")
    driver.get(url + name)
    result = layout.measure(driver)
    assert "error" not in result, result
    return result


GOOD = (
    output(LONG)
    + code_cell(LONG)
    + prose_code("make book   # the HTML book, in _build/html")
    + VERDICT
    + figure("fig600.png")
)


def test_the_book_css_passes_every_check(browser, phone, url, folder):
    for driver, min_px in ((browser, layout.LAPTOP_MIN_TEXT_PX), (phone, layout.PHONE_MIN_TEXT_PX)):
        r = measured(driver, url, folder, "good.html", page(GOOD))
        assert r["clipped"] == [] and r["uncued"] == [] and r["prose"] == []
        assert layout.small_text(r["figures"], min_px) == []
        assert r["pageOverflow"] <= 1
    assert layout.shrunk(measured(browser, url, folder, "good.html", page(GOOD))["figures"]) == []


def test_without_the_css_printed_text_verdicts_and_logs_are_cut_on_a_phone(phone, url, folder):
    r = measured(phone, url, folder, "nocss.html", page(GOOD, css=False))
    cut = "\n".join(r["clipped"])
    assert "pre." in cut and "epoch 8" in cut  # the printed line
    assert "attncv-verdict" in cut  # the verdict's long line
    assert "details.attncv-log" in cut  # the log, pushed wide by its epoch table


def test_without_the_css_a_wide_code_cell_has_no_scroll_cue(phone, url, folder):
    r = measured(phone, url, folder, "nocss.html", page(GOOD, css=False))
    assert any("no scroll cue" in u and "epoch 8" in u for u in r["uncued"])


def test_a_wide_prose_code_block_is_cut_at_1280_px(browser, url, folder):
    r = measured(browser, url, folder, "prose.html", page(prose_code(LONG * 2)))
    assert len(r["prose"]) == 1 and "epoch 8" in r["prose"][0]
    wrapped = prose_code(LONG * 2).replace("highlight-text", "highlight-text attncv-wrap")
    assert measured(browser, url, folder, "wrapped.html", page(wrapped))["prose"] == []


def test_a_figure_shown_at_half_its_size_is_flagged_at_1280_px(browser, url, folder):
    # shrunk as the book's column shrinks a figure drawn too wide: by its box, not by a width it
    # declares (a declared width, as the 2x PNGs carry in their style, is the drawn width)
    img = figure("fig600.png", "style='max-width:100%'")
    narrow = f"<div style='width:300px'>{img}</div>"
    r = measured(browser, url, folder, "half.html", page(narrow))
    assert layout.shrunk(r["figures"]) == [
        "fig600.png: shown at 0.50 of its size (600 px drawn, 300 px shown)"
    ]
    assert "6.9 px" in layout.small_text(r["figures"], layout.LAPTOP_MIN_TEXT_PX)[0]


def test_a_figure_drawn_too_wide_has_illegible_text_on_a_phone(phone, url, folder):
    r = measured(phone, url, folder, "wide.html", page(figure("fig1000.png")))
    small = layout.small_text(r["figures"], layout.PHONE_MIN_TEXT_PX)
    assert len(small) == 1 and small[0].startswith("fig1000.png: text ")


def test_a_declared_width_counts_as_the_drawn_width(browser, url, folder):
    """A sharp-screen PNG (1200 px drawn for 600 px shown) is not 'shrunk' at 600 px, whether it
    declares its width as an attribute or in its style (as myst-nb writes a PNG's width)."""
    for name, attrs in (("sharp.html", "width='600'"), ("styled.html", "style='width: 600px'")):
        r = measured(browser, url, folder, name, page(figure("fig1200.png", attrs)))
        assert layout.shrunk(r["figures"]) == []
        assert layout.small_text(r["figures"], layout.LAPTOP_MIN_TEXT_PX) == []


def test_a_figure_without_alt_text_is_flagged(browser, url, folder):
    html = page(figure("fig600.png").replace("alt='a figure'", "alt='../_images/fig600.png'"))
    r = measured(browser, url, folder, "noalt.html", html)
    assert layout.missing_alt(r["figures"]) == ["fig600.png: alt '../_images/fig600.png'"]
    html = page(figure("fig600.png").replace("a figure", layout.DEFAULT_ALT))
    assert (
        len(layout.missing_alt(measured(browser, url, folder, "default.html", html)["figures"]))
        == 1
    )


def test_a_table_whose_cells_hide_the_cue_is_flagged(phone, url, folder):
    """The theme's zebra rows are opaque: they would paint over the scroll shadow."""
    cells = "".join(f"<td>column {i} of a wide table</td>" for i in range(8))
    table = (
        "<div class='pst-scrollable-table-container'><table class='table'><tbody>"
        f"<tr style='background-color: rgb(240, 240, 240)'>{cells}</tr></tbody></table></div>"
    )
    r = measured(phone, url, folder, "zebra.html", page(table))
    assert len(r["uncued"]) == 1 and "column 0" in r["uncued"][0]
    see_through = table.replace("rgb(240, 240, 240)", "rgba(240, 240, 240, 0.5)")
    assert measured(phone, url, folder, "zebra2.html", page(see_through))["uncued"] == []
