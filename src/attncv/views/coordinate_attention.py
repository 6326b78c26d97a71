"""What coordinate attention learned, as figures, for the coordinate attention chapter.

:func:`coordinate_gates` makes the gate a_h a_w from the captured height and width gates,
:func:`profiles` draws them beside the photos; the chapter shows their position dependence with
the shared mask views (:mod:`attncv.views.masks`: true by construction for a position gate, so
shown, not judged). "Where" is judged per channel on cluttered canvases
(:func:`channel_preference`, validated by :func:`validate_channel_statistic`): averaged over the
channels, a gate whose channels prefer different rows and columns cancels to a flat map, so each
channel's weight on the target over the distractors is read first, then the channels are
combined by a geometric mean (the mean of the log ratios), which is 1 for no preference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from . import style
from .objects import CANVAS, Validation, box_cover, box_map, contrast_map
from .plots import MAP_CMAP, caption, to_rgb

WHERE_BLOCK = "layer2.1"  # the last block of stage 2: a 16x16 map, chosen before any run
WHERE_PAPER = (
    "the gates keep positional information, which helps the network locate the objects of "
    "interest (Hou et al. 2021, Sec. 1 and 3.2)"
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


def per_channel_ratio(
    gates: Tensor, target_boxes: Tensor, distractor_boxes: Tensor, *, canvas: int = CANVAS
) -> Tensor:
    """(N, C): each channel's mean gate per pixel on the target's box over its mean per pixel on
    the distractors' boxes (their pixels pooled), per cluttered canvas; 1: no preference.
    ``gates`` (N, C, h, w) over the whole canvas (read as constant over each cell), boxes in
    canvas pixels: targets (N, 4), distractors (N, k, 4) (:func:`attncv.train.cluttered_task`)."""
    if gates.dim() != 4 or len(gates) != len(target_boxes) or len(gates) != len(distractor_boxes):
        raise ValueError(
            f"per_channel_ratio needs gates (N, C, h, w) with one target and one set of "
            f"distractor boxes per canvas; got gates {tuple(gates.shape)}, "
            f"{len(target_boxes)} targets, {len(distractor_boxes)} distractor sets."
        )
    g = gates.detach().cpu().double()
    grid = (g.shape[2], g.shape[3])
    t = box_cover(target_boxes, grid, canvas)  # (N, h, w) pixels per cell
    d = box_cover(distractor_boxes, grid, canvas)
    d = d.sum(1) if d.dim() == 4 else d  # (N, h, w): the distractors do not overlap
    on_t = torch.einsum("nchw,nhw->nc", g, t) / t.sum((1, 2))[:, None].clamp_min(1e-12)
    on_d = torch.einsum("nchw,nhw->nc", g, d) / d.sum((1, 2))[:, None].clamp_min(1e-12)
    return on_t / on_d.clamp_min(1e-12)  # (N, C)


def channel_preference(
    gates: Tensor, target_boxes: Tensor, distractor_boxes: Tensor, *, canvas: int = CANVAS
) -> Tensor:
    """(N,): per cluttered canvas, the geometric mean over the channels of
    :func:`per_channel_ratio`, ``exp(mean_c log r_c)``: 1 when the channels prefer the target
    as often and as much as the distractors (a uniform gate gives exactly 1, channels that
    each prefer fixed rows and columns about 1 over random placements), above 1 when the
    channels' gates favour the target. Unlike the gate's channel mean, a channel that turns up
    the top rows and one that turns up the bottom rows do not cancel before the ratio."""
    r = per_channel_ratio(gates, target_boxes, distractor_boxes, canvas=canvas)
    return r.clamp_min(1e-12).log().mean(1).exp()


def validate_channel_statistic(
    canvases: Tensor,
    target_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    grid: tuple[int, int] = (16, 16),
    channels: int = 32,
    seed: int = 0,
) -> Validation:
    """:func:`channel_preference` on controls whose answer is known, on the cluttered
    ``canvases`` (N, 3, S, S): negatives (about 1) a uniform gate, the local contrast in every
    channel, and ``channels`` random rank-one gates a_h(i) a_w(j) fixed in position (a
    coordinate gate that prefers rows and columns but not the target); positive (far above 1)
    a gate set by hand on the target in every channel."""
    size = canvases.shape[-1]
    n = len(canvases)
    gen = torch.Generator().manual_seed(seed)
    a_h = torch.rand(channels, grid[0], generator=gen)  # (C, h)
    a_w = torch.rand(channels, grid[1], generator=gen)  # (C, w)
    fixed = (a_h[:, :, None] * a_w[:, None, :]).expand(n, -1, -1, -1)  # (N, C, h, w)

    def stat(m: Tensor) -> Tensor:
        m = m if m.dim() == 4 else m[:, None]  # (N, C, h, w)
        return channel_preference(m, target_boxes, distractor_boxes, canvas=size)

    return Validation(
        "geometric mean over channels of target over distractors",
        {
            "uniform": stat(torch.ones(n, 1, *grid)),
            "contrast only": stat(contrast_map(canvases, grid)),
            "rows and columns fixed per channel": stat(fixed),
        },
        ("hand-set on the target", stat(box_map(target_boxes, grid, size))),
    )
