"""Attention maps beside the photos they were measured on: one figure for every map set.

:func:`map_grid` draws the photos in the first row, then one row per map set drawn on its own
(never blended over the photo), each row on a stated scale with its own colour bar; signed
differences use :data:`DIVERGING`. The mixed chapters (CBAM, DANet, CCNet, residual and
coordinate attention) draw every map this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from . import style
from .plots import MAP_CMAP, caption, to_rgb

DIVERGING = "RdBu_r"  # signed differences: blue below zero, red above, white at zero
CHAR_WIDTH = 0.62  # a character's average width in a sans-serif font, in units of its size


def fit_title(text: str, width_in: float, size_pt: float) -> str:
    """``text`` broken into lines that fit ``width_in`` inches at ``size_pt`` points: by words,
    and a word longer than a line hyphenated ("automo-" / "bile"), so titles of neighbouring
    panels never run into each other ("automobileautomobile")."""
    per_line = max(4, int(width_in * 72 / (CHAR_WIDTH * size_pt)))
    lines: list[str] = []
    for word in text.split():
        while len(word) > per_line:
            lines.append(word[: per_line - 1] + "-")
            word = word[per_line - 1 :]
        if lines and not lines[-1].endswith("-") and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def pooled(matrix: Tensor, cells: int = 32) -> Tensor:
    """A square map of means over blocks, at most ``cells`` a side, for display: a 128x128
    affinity drawn in about 110 CSS px turns to texture on a phone (each cell under a pixel);
    pooled to 32x32, each block is the mean of the weights it covers (the colour scale and
    the mean kept). Sides that ``cells`` does not divide keep their remainder in the last block.
    """
    if matrix.dim() != 2:
        raise ValueError(f"pooled needs a 2-D map, got shape {tuple(matrix.shape)}.")
    if cells < 1:
        raise ValueError(f"pooled needs at least one cell a side, got cells={cells}.")
    import torch.nn.functional as F  # noqa: N812

    h, w = matrix.shape
    size = (min(h, cells), min(w, cells))
    return F.adaptive_avg_pool2d(matrix.detach().float()[None, None], size)[0, 0]


def map_grid(
    images: Tensor,
    rows: Mapping[str, Tensor],
    *,
    titles: Sequence[str] = (),
    vmin: float = 0.0,
    vmax: float = 1.0,
    label: str = "gate",
    scales: Mapping[str, tuple[float, float, str, str]] | None = None,
    marks: Mapping[str, tuple[float, float]] | None = None,
    title: str = "",
    note: str = "",
) -> Figure:
    """Uint8 ``images`` (N, 3, H, W) in the first row, then one row per map set
    (``{row label: (N, h, w)}``), each map drawn on its own panel under its photo, cell by cell
    (nearest), aligned with the photo's pixels. Every row is on the scale [vmin, vmax] with
    one colour bar labelled ``label``, unless ``scales`` gives a row its own
    ``(vmin, vmax, label, cmap)`` and colour bar. ``marks`` puts a star at (y, x) image pixels
    in a row (and on the photos); ``note`` (the data, the scales) goes under the figure."""
    n = len(images)
    scales = dict(scales or {})
    fig, axes = plt.subplots(
        len(rows) + 1,
        n,
        figsize=style.figsize(1.05 * (len(rows) + 1) + 0.5, 0.95 * n + 1.3),
        squeeze=False,
        constrained_layout=True,
    )
    size = images.shape[-2:]
    extent = (-0.5, size[1] - 0.5, size[0] - 0.5, -0.5)  # a map's cells over the photo's pixels
    for i in range(n):
        axes[0, i].imshow(to_rgb(images[i])[0])
        axes[0, i].set(xticks=[], yticks=[])
        if i < len(titles):
            width = 0.8 * fig.get_figwidth() / n  # a panel's share, less the colour bar's
            axes[0, i].set_title(fit_title(titles[i], width, style.MIN_FONT + 1))
    shared = None
    for r, (name, maps) in enumerate(rows.items(), start=1):
        lo, hi, row_label, cmap = scales.get(name, (vmin, vmax, label, MAP_CMAP))
        im = None
        for i in range(n):
            ax = axes[r, i]
            im = ax.imshow(
                maps[i].detach().float().cpu().numpy(),
                cmap=cmap,
                vmin=lo,
                vmax=hi,
                interpolation="nearest",
                extent=extent,
            )
            ax.set(xticks=[], yticks=[])
            if marks and name in marks:
                y, x = marks[name]
                ax.plot(x, y, "*", color="white", mec="black", ms=10)
                axes[0, i].plot(x, y, "*", color="white", mec="black", ms=10)
        axes[r, 0].set_ylabel(name)
        if name in scales:
            fig.colorbar(im, ax=axes[r, :].tolist(), shrink=0.9, label=row_label)
        else:
            shared = im
    plain = [r for r, name in enumerate(rows, start=1) if name not in scales]
    if shared is not None:
        fig.colorbar(shared, ax=[a for r in plain for a in axes[r]], shrink=0.8, label=label)
    if title:
        fig.suptitle(title)
    return caption(fig, note) if note else fig
