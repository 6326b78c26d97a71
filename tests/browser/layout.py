"""Layout checks of the browser test: what a reader sees cut, unscrollable or too small.

One script (:data:`LAYOUT_SCRIPT`) measures a page as laid out at the browser's current width;
the functions below turn its measurements into problems. They are shared by
``tests/browser/test_book.py`` (on every page of the book, at 1280 px and on a 390-px phone) and
by its self-test, which builds tiny pages with each defect and checks that it is flagged.

The rules (issue 20):

- **Text outputs wrap.** An element that shows printed text (a cell's text output, a verdict
  callout, a training log's summary) is *cut* when its content is wider than its box
  (``scrollWidth > clientWidth``) and it is not one of the designated scroll boxes.
- **Wide code (cells and source listings), formulas, tables and epoch tables scroll in their own
  box with a cue.** The
  designated scroll boxes (:data:`SCROLL_BOXES`) may be wider inside than out, but then they must
  scroll (``overflow-x`` auto or scroll) and show a cue: a gradient background (the scroll
  shadow of ``_static/attncv.css``).
- **Nothing prose-like is cut at 1280 px.** A prose code block or display formula wider than its
  box at 1280 px is cut: a laptop reader should not have to scroll it.
- **Figure text stays legible.** Every figure is drawn with text of at least
  ``style.MIN_FONT_PX`` pixels; shown at ``scale`` = shown width / drawn width, its text is
  ``MIN_FONT_PX * scale`` pixels: at least 8 on a 390-px phone, 9 at 1280 px. The drawn width is
  the PNG's natural width, or the width the page declares for it (a ``width`` attribute, as for a
  sharp-screen image drawn at twice its size).
- **Figures are not shrunk at 1280 px**: shown at 0.7 of their drawn width or more.
"""

from __future__ import annotations

from attncv.views import style

# Elements that show printed text and must wrap it.
TEXT_BOXES = (
    "div.cell_output div.output",
    "div.cell_output div.output pre",
    "div.attncv-verdict",
    "div.attncv-verdict p",
    "details.attncv-log",
    "details.attncv-log > summary",
)
# Elements allowed to scroll sideways, with a visible cue.
SCROLL_BOXES = (
    "div.cell_input pre",
    'div[class*="highlight-"]:not(.output) > div.highlight > pre',
    "div.cell_output div.output.text_html > div.highlight > pre",  # show_source listings
    "div.math mjx-container",
    "div.attncv-table",
    "div.pst-scrollable-table-container",  # the theme's box around a Markdown table
    "details.attncv-log > pre",
)
# Prose code blocks and display formulas: none may be cut at 1280 px.
PROSE_BLOCKS = (
    'div[class*="highlight-"]:not(.output) > div.highlight > pre',
    "div.math mjx-container",
)

DEFAULT_ALT = "A figure drawn by the code cell above (no description yet)."  # _config.yml
PHONE_MIN_TEXT_PX = 8.0
LAPTOP_MIN_TEXT_PX = 9.0
LAPTOP_MIN_SCALE = 0.7

# The wait both browser scripts start with: the body there, MathJax typeset, every image loaded.
PAGE_READY = r"""
const pageReady = async () => {
  const t = Date.now();  // a page still loading has no body yet: wait for it
  while ((document.readyState !== 'complete' || !document.body) && Date.now() - t < 10000) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  document.querySelectorAll('img[loading="lazy"]').forEach(i => i.loading = 'eager');
  const t0 = Date.now();
  while ([...document.images].some(i => !i.complete) && Date.now() - t0 < 5000) {
    await new Promise(r => setTimeout(r, 50));
  }
};
"""

LAYOUT_SCRIPT = (
    PAGE_READY
    + r"""
const [textBoxes, scrollBoxes, proseBlocks] = arguments;
const done = arguments[arguments.length - 1];
const label = e => (e.innerText || e.textContent || '').trim().split('\n')[0].slice(0, 70);
const measure = async () => {
  await pageReady();
  const inCell = e => !!e.closest('div.cell');
  const scrolls = [...document.querySelectorAll(scrollBoxes.join(','))];
  const wide = e => e.scrollWidth > e.clientWidth + 1;
  const clipped = [...document.querySelectorAll(textBoxes.join(','))]
    .filter(e => wide(e) && !scrolls.includes(e) && !scrolls.some(s => s.contains(e)))
    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ` +
              `${e.scrollWidth}px in ${e.clientWidth}px: ${label(e)}`);
  // an opaque table cell, row or head paints over the box's background, and so over its cue
  const opaque = e => [...e.querySelectorAll('table, thead, tbody, tr, th, td')]
    .some(x => /^rgb\(/.test(getComputedStyle(x).backgroundColor));
  const uncued = scrolls.filter(wide).filter(e => {
      const c = getComputedStyle(e);
      return !['auto', 'scroll'].includes(c.overflowX) || !c.backgroundImage.includes('gradient')
        || opaque(e);
    })
    .map(e => `${e.tagName.toLowerCase()} ${e.scrollWidth}px in ${e.clientWidth}px ` +
              `(overflow-x ${getComputedStyle(e).overflowX}, no scroll cue): ${label(e)}`);
  const prose = [...document.querySelectorAll(proseBlocks.join(','))]
    .filter(e => !inCell(e)).filter(wide)
    .map(e => `${e.tagName.toLowerCase()} ${e.scrollWidth}px in ${e.clientWidth}px: ${label(e)}`);
  const figures = [...document.querySelectorAll('article img')]
    .filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().width > 0)
    .map(i => ({
      src: (i.getAttribute('src') || '').split('/').pop().slice(0, 24),
      shown: i.getBoundingClientRect().width,
      natural: i.naturalWidth,
      declared: parseFloat(i.getAttribute('width')) || parseFloat(i.style.width) || 0,
      output: !!i.closest('div.cell_output'),
      alt: i.getAttribute('alt') || '',
    }));
  done({clipped, uncued, prose, figures,
        pageOverflow: document.documentElement.scrollWidth - window.innerWidth});
};
measure().catch(e => done({error: String(e)}));
"""
)


def measure(driver) -> dict:
    """Run :data:`LAYOUT_SCRIPT` on the page the driver shows."""
    return driver.execute_async_script(
        LAYOUT_SCRIPT, list(TEXT_BOXES), list(SCROLL_BOXES), list(PROSE_BLOCKS)
    )


def drawn_width(figure: dict) -> float:
    """The width a figure was drawn for: its declared width, else its PNG's natural width."""
    return figure["declared"] or figure["natural"]


def scale(figure: dict) -> float:
    return figure["shown"] / drawn_width(figure)


def small_text(figures: list[dict], min_px: float) -> list[str]:
    """Figures (cell outputs) whose smallest text, ``style.MIN_FONT_PX`` drawn, shows below
    ``min_px`` pixels."""
    return [
        f"{f['src']}: text {style.MIN_FONT_PX * scale(f):.1f} px (drawn {drawn_width(f):.0f} px "
        f"wide, shown {f['shown']:.0f} px)"
        for f in figures
        if f["output"] and style.MIN_FONT_PX * scale(f) < min_px
    ]


def shrunk(figures: list[dict], min_scale: float = LAPTOP_MIN_SCALE) -> list[str]:
    """Figures (cell outputs) shown below ``min_scale`` of the width they were drawn for."""
    return [
        f"{f['src']}: shown at {scale(f):.2f} of its size ({drawn_width(f):.0f} px drawn, "
        f"{f['shown']:.0f} px shown)"
        for f in figures
        if f["output"] and scale(f) < min_scale
    ]


def missing_alt(figures: list[dict]) -> list[str]:
    """Figures whose alt text is empty, a file path, or the book's placeholder (_config.yml's
    nb_render_image_options): set ``cell.metadata["mystnb"] = {"image": {"alt": "..."}}``."""
    return [
        f"{f['src']}: alt {f['alt'][:40]!r}"
        for f in figures
        if not f["alt"].strip()
        or f["alt"] == DEFAULT_ALT
        or f["alt"].lower().endswith((".png", ".svg", ".jpg", ".jpeg", ".gif"))
    ]
