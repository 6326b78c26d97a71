"""What channel attention learned, as figures, for the channel chapters.

- :func:`excitations` and :func:`spread_plot`: SE's per-class excitations, early against late
  (Hu et al. 2018, Sec. 7.2: early ones are shared by the classes, late ones class-specific),
  from :func:`attncv.views.probe.class_means`.
- :func:`zoom`, :func:`zoom_grid` and :func:`branch_weights`: SK's weight on its larger kernel
  as the same images are enlarged (Li et al. 2019, Sec. 5.3).
- :func:`kernels`: the 1-D kernels ECA learned, block by block.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.nn import functional as F

from ..attention.eca import ECA
from ..data import CifarData
from .plots import caption, to_rgb
from .probe import block_of, tap_weights


def excitations(
    means: dict[str, Tensor],
    classes: Sequence[str],
    blocks: Sequence[str],
    *,
    show: int = 10,
    dataset: str = "",
) -> Figure:
    """Top: mean excitation over the channels, one line per class (the first ``show``; the title
    says how many of how many). Bottom: each class's deviation from the all-class mean (a heat
    map, one colour scale for all)."""
    fig, axes = plt.subplots(
        2,
        len(blocks),
        figsize=(5 * len(blocks), 5.6),
        squeeze=False,
        constrained_layout=True,
        gridspec_kw={"height_ratios": [1.2, 1]},
    )
    k = min(show, len(classes))
    dev = {b: means[b][:k] - means[b].mean(0) for b in blocks}  # (k, C)
    limit = max(d.abs().max().item() for d in dev.values()) or 1.0
    for col, block in enumerate(blocks):
        ax = axes[0, col]
        for i in range(k):
            ax.plot(means[block][i].numpy(), lw=1, label=classes[i])
        ax.set(
            xlabel="channel index",
            ylabel="mean excitation",
            ylim=(0, 1),
            title=f"{block} ({means[block].shape[1]} channels)",
        )
        ax.grid(alpha=0.3)
        im = axes[1, col].imshow(
            dev[block].numpy(),
            aspect="auto",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
        )
        axes[1, col].set(xlabel="channel index", title="deviation from the all-class mean")
        axes[1, col].set_yticks(range(k), classes[:k], fontsize=8)
    axes[0, -1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.colorbar(im, ax=axes[1, :].tolist(), shrink=0.9, label="excitation difference")
    shown = "every class" if k == len(classes) else f"{k} of {len(classes)} classes"
    fig.suptitle(f"Mean SE excitation per class on the test images ({shown})", fontsize=10)
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def spread_plot(spreads: dict[str, dict[str, float]], *, dataset: str = "") -> Figure:
    """Class spread per block, one line per model (``{label: class_spread(...)}``)."""
    fig, ax = plt.subplots(figsize=(7, 3), constrained_layout=True)
    for label, spread in spreads.items():
        ax.plot(list(spread), list(spread.values()), marker="o", label=label)
    ax.set(
        xlabel="block (early to late)",
        ylabel="std across classes\n(mean over channels)",
        title="How class-specific the gates are",
    )
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def zoom(images: Tensor, factor: float) -> Tensor:
    """Centre crop ``1 / factor`` of each side and resize back (bilinear): uint8 (N, 3, H, W)."""
    if factor < 1:
        raise ValueError(f"zoom factor must be >= 1, got {factor}.")
    h, w = images.shape[-2:]
    ch, cw = round(h / factor), round(w / factor)
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = images[..., top : top + ch, left : left + cw].float()  # (N, 3, ch, cw)
    out = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    return out.round().clamp(0, 255).to(torch.uint8)  # (N, 3, H, W)


def branch_weights(
    model: nn.Module,
    data: CifarData,
    factors: Sequence[float] = (1.0, 1.5, 2.0),
    *,
    branch: int = -1,
) -> dict[float, dict[str, Tensor]]:
    """SK's weight on one branch (default the largest kernel) for the test images enlarged by
    each factor: ``{factor: {block: (C,)}}``, averaged over the images."""
    images = data.split("test")[0]
    return {
        f: {
            block: a[:, branch].mean(0)
            for block, a in tap_weights(model, data, zoom(images, f), "branch").items()
        }
        for f in factors
    }


def branch_plot(
    weights: dict[float, dict[str, Tensor]], block: str, *, dataset: str = ""
) -> Figure:
    """Left: mean weight on the larger kernel per block, one line per zoom factor. Right: the same
    per channel at ``block``."""
    fig, (ax_b, ax_c) = plt.subplots(
        1, 2, figsize=(11, 3.4), constrained_layout=True, gridspec_kw={"width_ratios": [1.2, 1]}
    )
    for f, per_block in weights.items():
        ax_b.plot(
            list(per_block),
            [v.mean().item() for v in per_block.values()],
            marker="o",
            label=f"{f:.1f}x",
        )
        ax_c.plot(per_block[block].numpy(), lw=1, label=f"{f:.1f}x")
    ax_b.set(
        xlabel="block (early to late)",
        ylabel="mean weight on dilated 3x3 (5x5)",
        title="Per block, mean over channels",
    )
    ax_b.tick_params(axis="x", labelsize=8)
    ax_c.set(
        xlabel="channel index",
        ylabel="mean weight on dilated 3x3 (5x5)",
        title=f"Per channel at {block}",
    )
    for ax in (ax_b, ax_c):
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, title="zoom")
    fig.suptitle("SK's selection as the test images are enlarged", fontsize=10)
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def kernels(model: nn.Module, *, dataset: str = "") -> Figure:
    """The 1-D kernel of every ECA module, one line per block, one panel per stage."""
    found = {block_of(n): m for n, m in model.named_modules() if isinstance(m, ECA)}
    stages = sorted({b.split(".")[0] for b in found})
    fig, axes = plt.subplots(
        1,
        len(stages),
        figsize=(2.6 * len(stages), 2.8),
        sharey=True,
        squeeze=False,
        constrained_layout=True,
    )
    for ax, stage in zip(axes[0], stages, strict=True):
        blocks = {b: m for b, m in found.items() if b.startswith(stage + ".")}
        for block, m in blocks.items():
            w = m.kernel.detach().float().cpu()[0]  # (k,), the first row where not shared
            ax.plot(range(-(len(w) // 2), len(w) // 2 + 1), w.numpy(), marker="o", label=block)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(xlabel="channel offset j - i", title=f"{stage} (C={m.channels}, k={m.kernel_size})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("kernel weight")
    fig.suptitle("ECA's learned 1-D kernels", fontsize=10)
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def zoom_grid(
    images: Tensor, factors: Sequence[float] = (1.0, 1.5, 2.0), *, dataset: str = ""
) -> Figure:
    """uint8 images (rows) at each zoom factor (columns), as SK's analysis feeds them."""
    fig, axes = plt.subplots(
        len(images),
        len(factors),
        figsize=(1.5 * len(factors), 1.5 * len(images)),
        squeeze=False,
        constrained_layout=True,
    )
    for col, f in enumerate(factors):
        rgb = to_rgb(zoom(images, f))  # (N, H, W, 3)
        for row in range(len(images)):
            axes[row, col].imshow(rgb[row])
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
        axes[0, col].set_title(f"{f:.1f}x", fontsize=8)
    return caption(fig, f"Test images of {dataset}.") if dataset else fig
