"""Figures of the spatial-attention chapters: attention of chosen query pixels over an image, how
learned scales grew, images and their spatial-transformer warps, and the learned transforms.

Titles name the dataset, as everywhere in the course (:mod:`attncv.plots`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..attention.non_local import NonLocal
from ..attention.self_attention import SelfAttention
from ..train import FitResult
from .plots import caption, overlay, provenance, to_rgb


def query_maps(
    images: Tensor,
    weights: Tensor,
    queries: Sequence[tuple[int, int]],
    grid: tuple[int, int],
    *,
    keys: tuple[int, int] | None = None,
    titles: Sequence[str] | None = None,
    title: str = "",
    source: str = "",
) -> Figure:
    """For each image (row), the attention of each query position (column) over the image, each
    map divided by its maximum and drawn on one colour scale (0 to 1), with a colour bar.

    Args:
        images: uint8 (n, 3, H, W).
        weights: (n, L, S) position weights from a tap, L = grid[0] * grid[1] queries.
        queries: (row, col) positions on the query grid.
        grid: (h, w) of the feature map the block saw; ``keys``: of its keys (default: ``grid``).
        title: the figure's title; ``source``: where the images and model came from (a caption).
    """
    keys = keys or grid
    n, size = len(images), images.shape[-1]
    fig, axes = plt.subplots(
        n,
        len(queries),
        figsize=(1.9 * len(queries), 1.9 * n),
        squeeze=False,
        constrained_layout=True,
    )
    for i in range(n):
        for j, (r, c) in enumerate(queries):
            row = weights[i, r * grid[1] + c].view(*keys)  # (h_k, w_k), sums to one
            im = overlay(  # one colour scale for every map, the one the colour bar shows
                axes[i, j],
                images[i],
                row / row.max(),
                title=f"query ({r}, {c})" if i == 0 else None,
                vmin=0.0,
                vmax=1.0,
            )
            scale = size / grid[1]
            axes[i, j].plot(
                (c + 0.5) * scale - 0.5,
                (r + 0.5) * scale - 0.5,
                marker="*",
                color="white",
                markeredgecolor="black",
                markersize=11,
            )
            if j == 0 and titles:
                axes[i, j].set_ylabel(titles[i], fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="weight / row maximum")
    if title:
        fig.suptitle(title, fontsize=10)
    return caption(fig, source) if source else fig


def learned_scales(
    result: FitResult, prefix: str, *, start: float = 0.0, ylabel: str = "value"
) -> Figure:
    """Values recorded per epoch (history keys starting with ``prefix``), from ``start`` at 0."""
    keys = sorted({k for row in result.history for k in row if k.startswith(prefix)})
    fig, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
    epochs = [0] + result.curve("epoch")
    for key in keys:
        ax.plot(epochs, [start] + result.curve(key), marker=".", label=key[len(prefix) :].strip())
    ax.set(xlabel="epoch (0 = initialisation)", ylabel=ylabel, title=f"{result.name}: {ylabel}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, title="block", title_fontsize=7)
    return caption(fig, provenance([result]))


def to_uint8(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """Normalised float (N, 3, H, W) back to uint8 images (the inverse of ``normalize``)."""
    m = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return ((images.float() * s + m) * 255).round().clamp(0, 255).to(torch.uint8)


def warps(
    rows: Mapping[str, Tensor], *, title: str = "", source: str = "", size: float = 1.25
) -> Figure:
    """One row of uint8 (n, 3, H, W) images per entry (e.g. inputs, then their warped versions),
    each image ``size`` inches wide."""
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(
        len(rows),
        n,
        figsize=(size * n + 0.6, (size + 0.15) * len(rows) + 0.3),
        squeeze=False,
        constrained_layout=True,
    )
    for r, (label, images) in enumerate(rows.items()):
        for i in range(n):
            axes[r, i].imshow(to_rgb(images[i])[0])
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return caption(fig, source) if source else fig


def decompose(theta: Tensor) -> dict[str, Tensor]:
    """Zoom (sqrt |det A|: below 1 samples a smaller region, i.e. zooms in), rotation (degrees)
    and shift (tx, ty, in image half-widths) of affine transforms (N, 2, 3)."""
    a = theta[:, :, :2]
    return {
        "zoom (sqrt |det A|)": torch.linalg.det(a).abs().sqrt(),
        "rotation (degrees)": torch.rad2deg(torch.atan2(a[:, 1, 0], a[:, 0, 0])),
        "shift x": theta[:, 0, 2],
        "shift y": theta[:, 1, 2],
    }


def transform_histograms(
    thetas: Mapping[str, Tensor], *, title: str = "", source: str = ""
) -> Figure:
    """Histograms of :func:`decompose` for one or more sets of transforms (e.g. per test set)."""
    parts = {label: decompose(t.cpu()) for label, t in thetas.items()}
    names = list(next(iter(parts.values())))
    fig, axes = plt.subplots(1, len(names), figsize=(3 * len(names), 2.8), constrained_layout=True)
    for ax, name in zip(axes, names, strict=True):
        for label, values in parts.items():
            ax.hist(values[name].numpy(), bins=30, alpha=0.6, label=label)
        ax.set(xlabel=name, ylabel="test images")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return caption(fig, source) if source else fig


def gammas(model: nn.Module) -> dict[str, float]:
    """The learned residual scale gamma of every :class:`SelfAttention` in ``model``, by module
    name. Pass as ``on_epoch=gammas`` to :func:`attncv.fit` to record them after every epoch."""
    return {
        f"gamma {n}": m.gamma.item()
        for n, m in model.named_modules()
        if isinstance(m, SelfAttention)
    }


def wz_scales(model: nn.Module) -> dict[str, float]:
    """Mean |BN scale| after W_z of each :class:`NonLocal` in ``model``, by name (0 at init).
    Pass as ``on_epoch=wz_scales`` to :func:`attncv.fit` to record them after every epoch."""
    return {
        f"W_z scale {n}": m.bn.weight.abs().mean().item()
        for n, m in model.named_modules()
        if isinstance(m, NonLocal)
    }
