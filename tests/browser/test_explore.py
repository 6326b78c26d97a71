"""The attention explorers in a reader's browser, offline, at 1280 px and on a 390-px phone.

A tiny Jupyter Book is built in a temporary folder from one notebook whose outputs are a query
explorer and a gate explorer (tiny networks on the synthetic stand-in, through
``attncv.views.explore``, the book's ``_ext/plotly_once.py`` serving plotly), and opened in
headless Chromium that can reach nothing but 127.0.0.1. The test moves the pointer over the
photo and checks that the query and its map change, switches the gate explorer's network and
checks that the bars change, and checks that plotly is loaded once, nothing is logged as an
error, the controls sit above the plots and the page fits a phone. Screenshots before and after
the pointer moves go to ``_build/screenshots/explore-*.png``.

The same checks run on every page of the built book (``make book``) that has an explorer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from . import test_book
from .test_book import ROOT, SHOTS, SITE, serve

pytestmark = pytest.mark.slow  # a Jupyter Book build and two browsers: about 30 s

READY = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(function wait() {
  const all = [...document.querySelectorAll('[data-attncv-explorer]')];
  if (all.length && all.every(e => e.dataset.ready === '1')) return done(all.length);
  if (Date.now() - t0 > 20000) return done(-all.filter(e => e.dataset.ready !== '1').length);
  setTimeout(wait, 100);
})();
"""

STATE = """
const root = document.querySelectorAll('[data-attncv-explorer]')[arguments[0]];
const map = root.querySelector('[data-ax=map]').data[0];
const box = (k) => root.querySelector('[data-ax=' + k + ']').getBoundingClientRect();
return {state: root.dataset.state, z: JSON.stringify(map.z || map.y),
        kind: root.dataset.attncvExplorer,
        controlsBottom: box('view').bottom, photoTop: box('photo').top,
        mapRight: box('map').right, width: window.innerWidth,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        plotlyScripts: document.querySelectorAll('script[src*="plotly"]').length};
"""


def _notebook(path: Path) -> None:
    """One notebook holding a query explorer and a gate explorer as a run left them."""
    from attncv import resnet18
    from attncv.data import synthetic
    from attncv.views.explore import gate_explorer, query_explorer

    data = synthetic(num_classes=4, train_per_class=4, test_per_class=4)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Explorers\n\nA tiny page."))
    for attention, build in (("self_attention", query_explorer), ("cbam", gate_explorer)):
        torch.manual_seed(0)
        model = resnet18(4, attention=attention, width=16).eval()
        torch.manual_seed(1)
        control = resnet18(4, attention=attention, width=16).eval()
        ex = build(model, control, data, control_label="a re-seeded twin", title=attention)
        cell = nbformat.v4.new_code_cell(f"{build.__name__}(model, control, data)")
        cell.execution_count = len(nb.cells)
        cell.outputs = [nbformat.v4.new_output("display_data", data=ex._repr_mimebundle_())]
        nb.cells.append(cell)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory) -> Path:
    book = tmp_path_factory.mktemp("book")
    (book / "_ext").mkdir()
    for ext in ("plotly_once", "unique_scripts"):  # the second: the theme's doubled scripts
        shutil.copy(ROOT / "_ext" / f"{ext}.py", book / "_ext")
    (book / "_config.yml").write_text(
        "title: explorers\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n"
        "sphinx:\n  local_extensions:\n    plotly_once: _ext/\n    unique_scripts: _ext/\n"
        "  config:\n    html_context: {default_mode: auto}\n"
    )
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    _notebook(book / "index.ipynb")
    jb = Path(sys.executable).parent / "jupyter-book"
    done = subprocess.run(
        [str(jb), "build", str(book), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return book / "_build" / "html"


def _check(driver, url: str, name: str) -> list[str]:
    """Open ``url`` and work each explorer on it; the problems found."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    driver.get(url)
    count = driver.execute_async_script(READY)
    if count <= 0:
        return [f"{-count} explorers never drew (plotly missing or the page script failed)"]
    problems = []
    for i in range(count):
        before = driver.execute_script(STATE, i)
        root = driver.find_elements("css selector", "[data-attncv-explorer]")[i]
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", root)
        shot = SHOTS / f"explore-{name}-{i}"
        driver.save_screenshot(f"{shot}-before.png")
        if before["kind"] == "query":
            photo = root.find_element("css selector", "[data-ax=photo] .nsewdrag")
            w, h = photo.size["width"], photo.size["height"]
            at = ActionChains(driver).move_to_element_with_offset(photo, -w // 4, h // 4)
            at.click().perform()  # a laptop's pointer hovers, a phone's finger taps
        else:
            Select(root.find_element("css selector", "[data-ax=net]")).select_by_index(1)
        after = driver.execute_script(STATE, i)
        driver.save_screenshot(f"{shot}-after.png")
        what = f"explorer {i} ({before['kind']})"
        if after["state"] == before["state"]:
            problems.append(f"{what}: the pointer or control changed nothing: {after['state']}")
        if after["z"] == before["z"]:
            problems.append(f"{what}: the map or bars stayed the same")
        if before["controlsBottom"] > before["photoTop"] + 1:
            problems.append(f"{what}: the controls are not above the plots")
        if before["mapRight"] > before["width"] + 1 or before["overflow"] > 1:
            problems.append(f"{what}: wider than the screen ({before['overflow']} px)")
        if before["plotlyScripts"] != 1:
            problems.append(f"plotly loaded by {before['plotlyScripts']} scripts, not once")
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return problems + [f"console: {e}" for e in errors if "/favicon.ico " not in e]


def test_the_pointer_moves_the_query_and_a_control_switches_the_gates(tiny_book, browser, phone):
    SHOTS.mkdir(parents=True, exist_ok=True)
    html = (tiny_book / "index.html").read_text(encoding="utf-8")
    assert html.count("_static/plotly/plotly.min.js") == 1  # once, for both explorers
    assert (tiny_book / "_static" / "plotly" / "plotly.min.js").stat().st_size > 1_000_000
    with serve(tiny_book) as url:
        problems = _check(browser, url + "index.html", "1280") + [
            f"390 px: {p}" for p in _check(phone, url + "index.html", "390")
        ]
    assert not problems, "\n".join(problems)


def test_explorers_of_the_built_book_work(browser, phone):
    """Every page of the built book with an explorer (the chapters once they carry them)."""
    if not (SITE / "index.html").exists():
        test_book._unavailable(f"the book is not built ({SITE} has no index.html)")
    pages = sorted(
        str(p.relative_to(SITE))
        for p in SITE.rglob("*.html")
        if "data-attncv-explorer" in p.read_text(encoding="utf-8", errors="replace")
    )
    if not pages:
        pytest.skip("no page of the built book has an explorer yet")
    with serve(SITE) as url:
        problems = [
            f"{page} at {width}: {p}"
            for page in pages
            for width, driver in (("1280", browser), ("390", phone))
            for p in _check(driver, url + page, page.replace("/", "_")[:-5] + "-" + width)
        ]
    assert not problems, "\n".join(problems)
