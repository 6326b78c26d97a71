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
            axes[0, i].set_title(titles[i])
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
