"""The built book, opened page by page in headless Chromium as a reader's browser would.

Serves ``_build/html`` on 127.0.0.1 and visits every page with Debian's Chromium (through
Selenium and Debian's chromedriver). Any host but 127.0.0.1 is unresolvable for the browser, so
the test never leaves the machine and a page that needs the internet fails. It fails on: errors in
the console, internal links to a page or anchor that doesn't exist, images that don't load,
formulas left untypeset (raw ``\\(`` or ``$$``, or a ``.math`` node without MathJax output), raw
widget text (``HBox(``); and on what makes a page look unfinished: an output, table or image wider
than its box or the article at 1280 px, a page wider than a 390 px phone screen, a training cell
split into many output boxes, a literal "Exercise N" in the prose (numbers are per page: refer
with ``{numref}``), doubled words ("the the"), ``nan`` in an output, and visible test markers
(``NBVAL``). Screenshots of a few pages go to ``_build/screenshots/``.

It also checks that the pages read as lessons (``tests/browser/lesson.py``): every module chapter
shows a glued finding in its first 900 px at 1280 px, and no verdict's finding appears more than
twice on a page; ``test_lesson_checks.py`` shows that both flag their defect.

A second pass opens every page on an emulated phone (390 px wide, Chrome's mobile emulation: a
desktop window cannot be that narrow) and checks, with ``tests/browser/layout.py``: no printed
text, verdict or log line cut; every box that scrolls sideways shows a cue; figure text at least
8 px on the phone and 9 px at 1280 px; no prose code block or display formula cut at 1280 px; no
figure shown below 0.7 of its drawn size at 1280 px. ``test_layout_checks.py`` shows that each
of these checks flags its defect on a tiny page.

Build the book first (``make book``); ``ATTNCV_BOOK_SITE`` points the test at another build.
Without the build, Chromium or Selenium the test skips and says why; with
``ATTNCV_BROWSER_TEST=1`` (CI) it fails instead.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

from . import layout, lesson

pytestmark = pytest.mark.slow  # every page in Chromium, twice (make quick leaves it out)

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("ATTNCV_BOOK_SITE", ROOT / "_build" / "html"))  # a copy, to test a test
SHOTS = ROOT / "_build" / "screenshots"
SCREENSHOT_PAGES = (
    "chapters/intro.html",
    "chapters/baseline.html",
    "chapters/explorers.html",
    "chapters/running.html",
    "chapters/channel/se.html",
    "chapters/mixed/cbam.html",
    "chapters/spatial/spatial_transformer.html",
    "chapters/benchmark.html",
)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRED = os.environ.get("ATTNCV_BROWSER_TEST") == "1"

PAGE_SCRIPT = (
    layout.PAGE_READY
    + r"""
const done = arguments[arguments.length - 1];
const settle = async () => {
  await pageReady();
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const right = article.getBoundingClientRect().right;
  const overflow = [...document.querySelectorAll(
      'div.cell pre, div.cell_output img, div.cell_output table, div.attncv-table')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > right + 1)
    .map(e => `${e.tagName.toLowerCase()} ${e.scrollWidth}px in ${e.clientWidth}px: ` +
              (e.innerText || e.getAttribute('src') || '').trim().split('\n')[0].slice(0, 60));
  const boxes = [...document.querySelectorAll('div.cell')]
    .filter(c => /\b(train_model|fit)\(/.test(
      (c.querySelector('div.cell_input') || {innerText: ''}).innerText))
    .map(c => [c.querySelectorAll('div.cell_output > div.output').length,
               c.querySelector('div.cell_input').innerText.trim().split('\n')[0].slice(0, 50),
               ((c.querySelector('div.cell_output') || {innerText: ''}).innerText
                 .match(/: test accuracy \d/g) || []).length]);
  const prose = [...document.querySelectorAll('article p, article li, article td')]
    .filter(e => !e.closest('pre, code, div.cell_output, .admonition-title'))
    .map(e => {
      const c = e.cloneNode(true);
      c.querySelectorAll('.std-numref, code, mjx-container').forEach(x => x.remove());
      return c.innerText;
    }).join('\n');
  done({
    overflow: overflow,
    boxes: boxes,
    prose: prose,
    outputs: [...document.querySelectorAll('div.cell_output')].map(e => e.innerText).join('\n'),
    markers: document.body.innerText.includes('NBVAL'),
    hrefs: [...document.querySelectorAll('a[href]')].map(a => a.href),
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
      .map(i => i.getAttribute('src').slice(0, 120)),
    mathNodes: document.querySelectorAll('.math').length,
    untypeset: [...document.querySelectorAll('.math')]
      .filter(e => !e.querySelector('mjx-container'))
      .map(e => e.textContent.trim().slice(0, 60)),
    text: body.innerText,
    height: document.documentElement.scrollHeight,
  });
};
settle().catch(e => done({error: String(e)}));
"""
)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"ATTNCV_BROWSER_TEST=1 but {reason}")
    pytest.skip(reason)


@dataclass
class Page:
    path: str
    console: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    math_nodes: int = 0
    untypeset: list[str] = field(default_factory=list)
    text: str = ""
    overflow: list[str] = field(default_factory=list)
    boxes: list[list] = field(default_factory=list)
    prose: str = ""
    outputs: str = ""
    markers: bool = False
    phone_width: int = 0
    laptop: dict = field(default_factory=dict)  # layout.measure at 1280 px
    phone: dict = field(default_factory=dict)  # layout.measure on a 390-px phone
    lesson: dict = field(default_factory=dict)  # lesson.read at 1280 px


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


@functools.cache
def anchors(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def pages() -> list[str]:
    return sorted(
        str(p.relative_to(SITE))
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith("_")
    )


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        _unavailable(f"the book is not built ({SITE} has no index.html): run `make book` first")
    with serve(SITE) as url:
        yield url


@contextlib.contextmanager
def serve(folder: Path):
    """``folder`` served on a free local port for the duration: its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _chrome(phone: bool = False):
    """Headless Chromium through Selenium: a 1280-px window, or an emulated 390-px phone."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        _unavailable(f"{' and '.join(missing)} not found: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
        "--window-size=1280,1600",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):  # never leave
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if phone:  # a desktop window cannot be narrower than 500 px: emulate the phone instead
        options.add_experimental_option(
            "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3}}
        )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(30)
    return driver


# Over 30 s (about 30 s on two cores): every page of the book opened twice in Chromium and read;
# once per module, shared by every test of the file, so the pages are visited only once.
@pytest.fixture(scope="module")
def site(server: str, browser, phone) -> dict[str, Page]:
    """Every page of the book, visited once at 1280 px and once on a phone; screenshots of a
    few at both widths."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    visited = {}
    for path in pages():
        browser.get(server + path)
        result = browser.execute_async_script(PAGE_SCRIPT)
        if "error" in result:  # once more, in case the page was still being replaced
            browser.get(server + path)
            result = browser.execute_async_script(PAGE_SCRIPT)
        page = Page(path)
        if "error" in result:
            page.console.append(f"page script failed: {result['error']}")
        else:
            page.hrefs, page.broken_images = result["hrefs"], result["brokenImages"]
            page.math_nodes, page.untypeset = result["mathNodes"], result["untypeset"]
            page.text = result["text"]
            page.overflow, page.boxes = result["overflow"], result["boxes"]
            page.prose, page.outputs, page.markers = (
                result["prose"],
                result["outputs"],
                result["markers"],
            )
        page.laptop = layout.measure(browser)
        page.lesson = lesson.read(browser)
        page.console += [
            e["message"]
            for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "/favicon.ico " not in e["message"]  # asked by Chromium
        ]
        if path in SCREENSHOT_PAGES:
            browser.set_window_size(1280, min(max(result.get("height", 1600), 800), 5000))
            browser.save_screenshot(str(SHOTS / path.replace("/", "_").replace(".html", ".png")))
            browser.set_window_size(1280, 1600)
        visited[path] = page
    for path, page in visited.items():  # a phone: nothing may widen the page itself
        phone.get(server + path)
        page.phone = layout.measure(phone)
        page.phone_width = page.phone.get("pageOverflow", 0)
        if path in SCREENSHOT_PAGES:
            name = path.replace("/", "_").replace(".html", "-phone.png")
            phone.save_screenshot(str(SHOTS / name))
    return visited


def _problems(site: dict[str, Page], check) -> str:
    found = {p: check(page) for p, page in site.items()}
    return "\n".join(f"{p}: {issues}" for p, issues in found.items() if issues)


def test_every_page_opens(site):
    assert len(site) >= 3 and "index.html" in site


def test_no_errors_in_the_console(site):
    problems = _problems(site, lambda page: page.console)
    assert not problems, f"console errors:\n{problems}"


def test_internal_links_resolve(site, server):
    def broken(page: Page) -> list[str]:
        bad = []
        for href in page.hrefs:
            if not href.startswith(server):
                continue  # external links (GitHub, Colab) are not followed
            url, fragment = urldefrag(href)
            target = SITE / unquote(urlsplit(url).path[1:])
            target = target / "index.html" if target.is_dir() else target
            if not target.is_file():
                bad.append(href[len(server) :])
            elif fragment and target.suffix == ".html" and unquote(fragment) not in anchors(target):
                bad.append(f"{href[len(server) :]} (no such anchor)")
        return sorted(set(bad))

    problems = _problems(site, broken)
    assert not problems, f"broken internal links:\n{problems}"


def test_every_image_loads(site):
    problems = _problems(site, lambda page: page.broken_images)
    assert not problems, f"images that did not load:\n{problems}"


def test_math_is_typeset(site):
    def raw(page: Page) -> list[str]:
        leftovers = [m for m in ("\\(", "\\[", "$$") if m in page.text]
        return page.untypeset + [f"raw {m} in the text" for m in leftovers]

    problems = _problems(site, raw)
    assert not problems, f"formulas not typeset by MathJax:\n{problems}"
    assert any(page.math_nodes for page in site.values()), "no formula on any page: is math on?"


def test_no_raw_widget_text(site):
    problems = _problems(
        site, lambda page: [w for w in ("HBox(", "VBox(", "IntProgress(") if w in page.text]
    )
    assert not problems, (
        f"widgets shown as raw text (execute with ATTNCV_PROGRESS=log):\n{problems}"
    )


def test_screenshots_are_saved(site):
    expected = [
        SHOTS / p.replace("/", "_").replace(".html", suffix)
        for p in SCREENSHOT_PAGES
        if p in site
        for suffix in (".png", "-phone.png")
    ]
    assert expected and all(p.stat().st_size > 10_000 for p in expected)  # look at them, too


def test_no_output_table_or_image_wider_than_its_box(site):
    """At 1280 px every output, table and image fits its box and the article (issue: cost tables,
    summaries and source listings were cut off)."""
    problems = _problems(site, lambda page: page.overflow)
    assert not problems, f"wider than their box at 1280 px:\n{problems}"


def test_a_phone_scrolls_wide_tables_in_their_box_not_the_page(site):
    problems = _problems(
        site, lambda page: [f"{page.phone_width}px too wide"] * (page.phone_width > 1)
    )
    assert not problems, f"pages wider than a 390 px screen:\n{problems}"


def test_a_training_run_is_one_output_box(site):
    """A training cell renders each run's log as one block (not a box per epoch): at most one
    box per run it trains (counted by the runs' summary lines), plus two for anything else the
    cell shows, and never more than 3 for a cell with one run."""
    problems = _problems(site, lambda page: [b for b in page.boxes if b[0] > max(3, b[2] + 2)])
    assert not problems, f"training cells with more output boxes than runs allow:\n{problems}"


LITERAL_EXERCISE = re.compile(r"\b[Ee]xercises? \d+")
DOUBLED = re.compile(r"\b([A-Za-z]{2,})[ \u00a0]+\1\b|\b(?:the|an?)[ \u00a0]+(?:the|an?)\b", re.I)
NAN = re.compile(r"\bnan\b", re.I)


def test_no_literal_exercise_numbers_in_the_prose(site):
    """Exercises are numbered per page; prose refers to them through {numref} or their titles."""
    problems = _problems(site, lambda page: LITERAL_EXERCISE.findall(page.prose))
    assert not problems, f"literal exercise numbers:\n{problems}"


def test_no_doubled_words(site):
    def doubled(page: Page) -> list[str]:
        return [m.group(0) for m in DOUBLED.finditer(page.prose)]

    problems = _problems(site, doubled)
    assert not problems, f"doubled words:\n{problems}"


def test_no_nan_in_any_output(site):
    problems = _problems(site, lambda page: NAN.findall(page.outputs))
    assert not problems, f"nan shown to the reader:\n{problems}"


def test_no_visible_test_markers(site):
    problems = _problems(site, lambda page: ["NBVAL comment"] * page.markers)
    assert not problems, f"test markers visible (use the nbval-check-output cell tag):\n{problems}"


def _layout_error(result: dict) -> list[str]:
    return [f"layout script failed: {result['error']}"] if "error" in result else []


def test_a_phone_wraps_printed_text_verdicts_and_logs(site):
    """At 390 px no printed line, verdict or log summary is cut: text outputs wrap in their box
    (only code, formulas, tables and epoch tables scroll, see the next test)."""
    problems = _problems(site, lambda p: _layout_error(p.phone) + p.phone.get("clipped", []))
    assert not problems, f"text cut at 390 px (it must wrap):\n{problems}"


def test_a_phone_shows_a_cue_where_a_box_scrolls(site):
    """At 390 px a code cell, prose code block, formula, table or epoch table wider than the
    screen scrolls inside its own box and shows a shadow on the side that has more."""
    problems = _problems(site, lambda p: p.phone.get("uncued", []))
    assert not problems, f"boxes that scroll at 390 px without a visible cue:\n{problems}"


def test_figure_text_is_legible_on_a_phone_and_a_laptop(site):
    """Figure text, drawn at style.MIN_FONT_PX, shows at 8 px or more on a 390-px phone and 9 px
    or more at 1280 px (shown width / drawn width scales it)."""

    def small(page: Page) -> list[str]:
        phone = layout.small_text(page.phone.get("figures", []), layout.PHONE_MIN_TEXT_PX)
        laptop = layout.small_text(page.laptop.get("figures", []), layout.LAPTOP_MIN_TEXT_PX)
        return [f"390 px: {f}" for f in phone] + [f"1280 px: {f}" for f in laptop]

    problems = _problems(site, small)
    assert not problems, (
        f"figure text too small (draw figures with attncv.views.style):\n{problems}"
    )


def test_no_prose_code_or_formula_cut_at_1280_px(site):
    """A laptop reader never scrolls a prose code block or a display formula: wrap the line,
    break the formula, or mark the block :class: attncv-wrap."""
    problems = _problems(site, lambda p: _layout_error(p.laptop) + p.laptop.get("prose", []))
    assert not problems, f"prose code blocks and formulas cut at 1280 px:\n{problems}"


def test_no_figure_shrunk_at_1280_px(site):
    """At 1280 px every figure shows at 0.7 of its drawn size or more (drawn for the column)."""
    problems = _problems(site, lambda p: layout.shrunk(p.laptop.get("figures", [])))
    assert not problems, f"figures shown below 0.7 of their size at 1280 px:\n{problems}"


def test_every_figure_has_alt_text(site):
    """Every figure says what it shows to a reader who cannot see it: not its file path, not the
    placeholder of _config.yml (alt text goes in the cell's metadata, mystnb.image.alt)."""
    problems = _problems(site, lambda p: layout.missing_alt(p.laptop.get("figures", [])))
    assert not problems, f"figures without alt text:\n{problems}"


def test_a_chapter_opens_with_what_its_run_found(site):
    """Each module chapter's first screen (900 px at 1280 px) holds a glued finding or outcome
    (issue 26: the first verdict sat 4,400-11,200 px down)."""
    missing = [p for p in lesson.CHAPTER_PAGES if p not in site]
    assert not missing, f"module chapters missing from the build: {missing}"
    problems = _problems(
        {p: site[p] for p in lesson.CHAPTER_PAGES}, lambda page: lesson.no_first_screen(page.lesson)
    )
    assert not problems, f"chapters without a first screen:\n{problems}"


def test_no_finding_is_said_more_than_twice(site):
    """A verdict's finding shows in its callout and at most once more (first screen or summary),
    never again in the paragraph after the callout (issue 26: every finding three times)."""
    problems = _problems(site, lambda page: lesson.repeated_findings(page.lesson))
    assert not problems, f"findings repeated on a page:\n{problems}"


class _SolutionCells(HTMLParser):
    """Code cells tagged ``solution`` found outside a solution dropdown (sphinx-exercise's
    ``div.solution``) in one page's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open div: is it a solution admonition?
        self.outside = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "div":
            return
        classes = (dict(attrs).get("class") or "").split()
        if "tag_solution" in classes and not any(self.stack):
            self.outside += 1
        self.stack.append("solution" in classes and "admonition" in classes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.stack:
            self.stack.pop()


def solution_cells_outside(html: str) -> int:
    parser = _SolutionCells()
    parser.feed(html)
    return parser.outside


def test_solution_code_sits_inside_its_solution_dropdown(server):
    """Curiosity must not open the answer: a code cell tagged solution renders inside its
    exercise's solution dropdown (_ext/solution_cells.py), not as a toggle of its own."""
    assert solution_cells_outside(
        "<div class='cell tag_solution'></div><div class='solution dropdown admonition'></div>"
    ), "the check itself must flag a solution cell outside the dropdown"
    problems = {
        p: n for p in pages() if (n := solution_cells_outside((SITE / p).read_text("utf-8")))
    }
    assert not problems, f"solution code outside its dropdown: {problems}"
