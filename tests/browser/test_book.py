"""The built book, opened page by page in headless Chromium as a reader's browser would.

Serves ``_build/html`` on 127.0.0.1 and visits every page with Debian's Chromium (through
Selenium and Debian's chromedriver). Any host but 127.0.0.1 is unresolvable for the browser, so
the test never leaves the machine and a page that needs the internet fails. It fails on: errors in
the console, internal links to a page or anchor that doesn't exist, images that don't load,
formulas left untypeset (raw ``\\(`` or ``$$``, or a ``.math`` node without MathJax output) and raw
widget text (``HBox(``). Screenshots of a few pages go to ``_build/screenshots/``.

Build the book first (``make book``). Without the build, Chromium or Selenium the test skips and
says why; with ``ATTNCV_BROWSER_TEST=1`` (CI) it fails instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
SCREENSHOT_PAGES = (
    "chapters/intro.html",
    "chapters/baseline.html",
    "chapters/explorers.html",
    "chapters/running.html",
)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRED = os.environ.get("ATTNCV_BROWSER_TEST") == "1"

PAGE_SCRIPT = """
const done = arguments[arguments.length - 1];
const settle = async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  document.querySelectorAll('img[loading="lazy"]').forEach(i => i.loading = 'eager');
  const t0 = Date.now();
  while ([...document.images].some(i => !i.complete) && Date.now() - t0 < 5000) {
    await new Promise(r => setTimeout(r, 50));
  }
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
  done({
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
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
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
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(server: str, browser) -> dict[str, Page]:
    """Every page of the book, visited once; screenshots of a few."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    visited = {}
    for path in pages():
        browser.get(server + path)
        result = browser.execute_async_script(PAGE_SCRIPT)
        page = Page(path)
        if "error" in result:
            page.console.append(f"page script failed: {result['error']}")
        else:
            page.hrefs, page.broken_images = result["hrefs"], result["brokenImages"]
            page.math_nodes, page.untypeset = result["mathNodes"], result["untypeset"]
            page.text = result["text"]
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
        SHOTS / p.replace("/", "_").replace(".html", ".png") for p in SCREENSHOT_PAGES if p in site
    ]
    assert expected and all(p.stat().st_size > 10_000 for p in expected)  # look at them, too
