"""Lesson checks of the browser test: a chapter reads as a lesson (issue 26).

One script (:data:`LESSON_SCRIPT`) reads a page as laid out at 1280 px; the functions below turn
its readings into problems. Shared by ``tests/browser/test_book.py`` (on the book) and its
self-test ``test_lesson_checks.py`` (on tiny pages with each defect put back).

- **A first screen.** A module chapter shows what its run found before the reader scrolls: a
  glued value (myst-nb's ``span.pasted-text``, a verdict's ``-finding`` or ``-outcome``) within
  the first :data:`FIRST_SCREEN_PX` pixels of the page at 1280 px.
- **Said once.** A verdict's finding (the sentence after "In words:" in its callout) appears at
  most :data:`MAX_REPEATS` times in the page's text: the callout and the first screen, or the
  callout and the summary; not a third time in the paragraph after the callout.
"""

from __future__ import annotations

FIRST_SCREEN_PX = 900
MAX_REPEATS = 2
# The module chapters: each must open with its first screen.
CHAPTER_PAGES = (
    "chapters/spatial/self_attention.html",
    "chapters/spatial/non_local.html",
    "chapters/spatial/spatial_transformer.html",
    "chapters/channel/se.html",
    "chapters/channel/sk.html",
    "chapters/channel/eca.html",
    "chapters/mixed/cbam.html",
    "chapters/mixed/danet.html",
    "chapters/mixed/ccnet.html",
    "chapters/mixed/residual_attention.html",
    "chapters/mixed/coordinate_attention.html",
)

LESSON_SCRIPT = r"""
const done = arguments[arguments.length - 1];
const norm = s => (s || '').replace(/\s+/g, ' ').trim();
const read = async () => {
  const t = Date.now();
  while ((document.readyState !== 'complete' || !document.body) && Date.now() - t < 10000) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const limit = arguments[0];
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
    || document.body;
  const firstScreen = [...article.querySelectorAll('span.pasted-text, span.pasted-inline')]
    .filter(e => {
      const r = e.getBoundingClientRect();
      return r.height > 0 && r.top + window.scrollY < limit && norm(e.textContent).length > 0;
    })
    .map(e => norm(e.textContent).slice(0, 80));
  const copy = article.cloneNode(true);
  copy.querySelectorAll('script, style').forEach(e => e.remove());
  const text = norm(copy.textContent);
  const findings = [...article.querySelectorAll('div.attncv-verdict p')]
    .filter(p => /^In words:/.test(norm(p.textContent)))
    .map(p => norm(p.textContent).replace(/^In words:\s*/, ''))
    .filter(s => s.length >= 20);
  const counts = [...new Set(findings)].map(s => [s, text.split(s).length - 1]);
  done({firstScreen, counts});
};
read().catch(e => done({error: String(e)}));
"""


def read(driver, limit: int = FIRST_SCREEN_PX) -> dict:
    """Run :data:`LESSON_SCRIPT` on the page the driver shows (scrolled to the top)."""
    driver.execute_script("window.scrollTo(0, 0)")
    return driver.execute_async_script(LESSON_SCRIPT.replace("arguments[0]", str(int(limit)), 1))


def no_first_screen(reading: dict) -> list[str]:
    """A problem where no glued finding or outcome shows in the first screen."""
    if "error" in reading:
        return [f"lesson script failed: {reading['error']}"]
    if reading["firstScreen"]:
        return []
    return [
        f"no glued finding in the first {FIRST_SCREEN_PX} px at 1280 px: add 'What this run "
        "found' after the title, each outcome a {glue:text} of its verdict's -finding or -outcome"
    ]


def repeated_findings(reading: dict) -> list[str]:
    """Findings shown more than :data:`MAX_REPEATS` times on the page."""
    if "error" in reading:
        return [f"lesson script failed: {reading['error']}"]
    return [
        f"{count} times: {sentence[:70]!r}"
        for sentence, count in reading["counts"]
        if count > MAX_REPEATS
    ]
