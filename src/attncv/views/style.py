"""One matplotlib style for the book: figures drawn at the size they are shown.

The book's column is about 700 px wide at a 1280-px window and about 360 px on a 390-px phone. A
figure drawn wider than the column is shrunk, and its text with it; so every figure of the course
is at most :data:`MAX_WIDTH` inches at :data:`DPI` (600 px) and no text is smaller than
:data:`MIN_FONT` points (14 px drawn). Shown at 1280 px that text stays 14 px; on a phone, where
the figure shrinks to the column (about 0.6x), it stays at 8 px or more. The browser test checks
both from these numbers and the size each figure is shown at.

Sharp on every screen: in a notebook, figures are saved as PNG at twice :data:`DPI` with their
display width declared (IPython's ``retina`` format: the output's metadata holds the width in CSS
pixels, which the book writes as the image's ``width``), so a 2x laptop or phone screen gets one
image pixel per screen pixel while the layout, and the text sizes above, stay as drawn.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot  # noqa: F401  (the backend first: Jupyter's inline defaults must not win)

DPI = 100  # pixels per inch of the committed PNGs
MAX_WIDTH = 6.0  # inches: 600 px, within the column at 1280 px
MIN_FONT = 10.0  # points: the smallest text in any figure (ticks, legends, captions)
MIN_FONT_PX = MIN_FONT * DPI / 72  # 13.9 px drawn

RC = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": (MAX_WIDTH, 3.6),
    "font.size": MIN_FONT,
    "axes.titlesize": MIN_FONT + 1,
    "axes.labelsize": MIN_FONT,
    "xtick.labelsize": MIN_FONT,
    "ytick.labelsize": MIN_FONT,
    "legend.fontsize": MIN_FONT,
    "legend.title_fontsize": MIN_FONT,
    "figure.titlesize": MIN_FONT + 2,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def figsize(height: float, width: float = MAX_WIDTH) -> tuple[float, float]:
    """A figure size in inches, its width capped at :data:`MAX_WIDTH`."""
    if height <= 0 or width <= 0:
        raise ValueError(f"figsize needs a positive width and height, got {width}, {height}.")
    return (min(width, MAX_WIDTH), height)


def sharp() -> bool:
    """In an IPython kernel, show figures as 2x PNGs with their 1x width declared (``retina``);
    return whether it did (outside IPython, as in tests and scripts, nothing changes)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - both ship with every Jupyter kernel
        return False
    if get_ipython() is None:
        return False
    set_matplotlib_formats("retina")
    return True


def apply() -> None:
    """Set the book's style for every later figure (the views layer calls it on import)."""
    mpl.rcParams.update(RC)
    sharp()


apply()
