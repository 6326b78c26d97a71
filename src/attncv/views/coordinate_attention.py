"""What coordinate attention learned, as figures, for the coordinate attention chapter.

:func:`coordinate_gates` makes the gate a_h a_w from the captured height and width gates,
:func:`profiles` draws them beside the photos; the chapter reads the gates with the shared mask
views (:mod:`attncv.views.masks`), against :data:`COORDINATE_PAPER`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor

from . import style
from .plots import MAP_CMAP, caption, to_rgb

COORDINATE_PAPER = (
    "the gates keep precise positional information along one direction and long-range "
    "dependencies along the other, so they vary with position, unlike SE's (Hou et al. 2021, "
    "Sec. 3.2)"
)


def coordinate_gates(maps: Mapping[str, Tensor], block: str) -> tuple[Tensor, Tensor, Tensor]:
    """Coordinate attention's height gates (N, C, H), width gates (N, C, W) and the gate they
    make together (N, C, H, W), from the captured ``tap_h`` and ``tap_w`` weights of ``block``."""
    a_h = maps[f"{block}.tap_h"][..., 0]  # (N, C, H)
    a_w = maps[f"{block}.tap_w"][:, :, 0]  # (N, C, W)
    return a_h, a_w, a_h[:, :, :, None] * a_w[:, :, None, :]


def profiles(
    images: Tensor,
    a_h: Tensor,
    a_w: Tensor,
    *,
    titles: Sequence[str] = (),
    top: int = 3,
    note: str = "",
) -> Figure:
    """Per image (rows): the photo; beside it the product a_h a_w averaged over channels, on
    the gate's scale [0, 1] with a colour bar; then the height and width gates of the ``top``
    channels whose product varies most (thin) and their mean over channels (thick)."""
    fig, axes = plt.subplots(
        len(images),
        4,
        figsize=style.figsize(1.5 * len(images) + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    im = None
    for i in range(len(images)):
        product = a_h[i][:, :, None] * a_w[i][:, None, :]  # (C, H, W)
        chosen = product.flatten(1).std(1).topk(min(top, len(product))).indices
        axes[i, 0].imshow(to_rgb(images[i])[0])
        axes[i, 0].set(xticks=[], yticks=[])
        if i < len(titles):
            axes[i, 0].set_ylabel(titles[i])
        im = axes[i, 1].imshow(
            product.mean(0).numpy(), cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest"
        )
        axes[i, 1].set(xticks=[], yticks=[])
        for ax, g in ((axes[i, 2], a_h[i]), (axes[i, 3], a_w[i])):
            ax.plot(g[chosen].T.numpy(), lw=1)
            ax.plot(g.mean(0).numpy(), lw=2.5, color="k", label="mean")
            ax.set(ylim=(0, 1), yticks=[0, 1])
            ax.grid(alpha=0.3)
    axes[0, 1].set_title("a_h a_w")
    axes[0, 2].set_title("a_h")
    axes[0, 3].set_title("a_w")
    axes[-1, 2].set_xlabel("row")
    axes[-1, 3].set_xlabel("column")
    fig.colorbar(im, ax=axes[:, 1].tolist(), location="bottom", label="mean gate")
    return caption(fig, note) if note else fig
