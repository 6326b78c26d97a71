"""What SK learned, as figures and a verdict, for the SK chapter.

:func:`zoom`, :func:`zoom_grid` and :func:`branch_weights`: SK's weight on its larger kernel as
the objects in the same images are made larger or smaller (Li et al. 2019, Sec. 5.3);
:func:`sk_verdict` reads the change (:func:`scale_shift`) against the network before training,
with a bootstrap band over the channels (:mod:`attncv.views.verdicts`). The training data with
rescaled objects is :func:`attncv.train.scale_probe.scale_probe`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.nn import functional as F

from ..data import CifarData
from . import style
from .evidence_words import UNTRAINED, band_how
from .plots import caption, to_rgb
from .probe import short_blocks, tap_weights
from .verdicts import Evidence, Verdict, bootstrap_band


def zoom(images: Tensor, factor: float) -> Tensor:
    """The same images with their content ``factor`` times larger, at the same resolution
    (uint8 (N, 3, H, W)). Above 1: a centre crop of ``1 / factor`` of each side, resized back
    (bilinear). Below 1: the whole image shrunk (antialiased) and centred on a black canvas, the
    zero padding that training's random crops also show at the borders."""
    if factor <= 0:
        raise ValueError(f"zoom factor must be positive, got {factor}.")
    h, w = images.shape[-2:]
    if factor < 1:
        sh, sw = round(h * factor), round(w * factor)
        small = F.interpolate(
            images.float(), size=(sh, sw), mode="bilinear", align_corners=False, antialias=True
        )  # (N, 3, sh, sw)
        top, left = (h - sh) // 2, (w - sw) // 2
        out = F.pad(small, (left, w - sw - left, top, h - sh - top))  # (N, 3, H, W)
        return out.round().clamp(0, 255).to(torch.uint8)
    ch, cw = round(h / factor), round(w / factor)
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = images[..., top : top + ch, left : left + cw].float()  # (N, 3, ch, cw)
    out = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    return out.round().clamp(0, 255).to(torch.uint8)  # (N, 3, H, W)


def zoom_grid(
    images: Tensor, factors: Sequence[float] = (1.0, 1.5, 2.0), *, dataset: str = ""
) -> Figure:
    """uint8 images (rows) at each zoom factor (columns), as SK's analysis feeds them."""
    fig, axes = plt.subplots(
        len(images),
        len(factors),
        figsize=style.figsize(1.4 * len(images) + 0.5, 1.4 * len(factors)),
        squeeze=False,
        constrained_layout=True,
    )
    for col, f in enumerate(factors):
        rgb = to_rgb(zoom(images, f))  # (N, H, W, 3)
        for row in range(len(images)):
            axes[row, col].imshow(rgb[row])
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
        axes[0, col].set_title(f"{f:.1f}x")
    return caption(fig, f"Test images of {dataset}.") if dataset else fig


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
    """Top: mean weight on the larger kernel (the dilated 3x3, a 5x5 receptive field) per block,
    one line per zoom factor. Bottom: the same per channel at ``block``."""
    fig, (ax_b, ax_c) = plt.subplots(2, 1, figsize=style.figsize(6.2), constrained_layout=True)
    for f, per_block in weights.items():
        ax_b.plot(
            short_blocks(per_block),
            [v.mean().item() for v in per_block.values()],
            marker="o",
            label=f"{f:.1f}x",
        )
        ax_c.plot(per_block[block].numpy(), lw=1, label=f"{f:.1f}x")
    ax_b.set(
        xlabel="block (stage.block, early to late)",
        ylabel="weight on 5x5",
        title="Per block, mean over channels",
    )
    ax_c.set(xlabel="channel index", ylabel="weight on 5x5", title=f"Per channel at {block}")
    for ax in (ax_b, ax_c):
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
    ax_b.legend(title="zoom", ncol=len(weights), loc="best")
    fig.suptitle("SK's weight on the dilated branch as objects are resized")
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def scale_shift(
    weights: dict[float, dict[str, Tensor]], small: float, large: float, stages: Sequence[str]
) -> Tensor:
    """Per channel, the change of the weight on the dilated branch from zoom ``small`` to
    ``large`` (:func:`branch_weights`), over every block of the given ``stages`` (``"layer1"``,
    ...): one value per channel, concatenated."""
    return torch.cat(
        [weights[large][b] - weights[small][b] for b in weights[small] if b.split(".")[0] in stages]
    )


def sk_verdict(
    weights: dict[float, dict[str, Tensor]],
    weights0: dict[float, dict[str, Tensor]],
    *,
    small: float = 1.0,
    large: float = 2.0,
    early: Sequence[str] = ("layer1", "layer2"),
    last: str = "layer4",
) -> Verdict:
    """Does the larger kernel gain weight in the early stages as the objects grow, as in Li et al.
    (2019)?

    Statistic: the change of the weight on the dilated branch from zoom ``small`` to ``large``
    (:func:`scale_shift`), averaged over the channels of the ``early`` stages (the counterparts
    of the paper's SK_2_x and SK_3_x units). Control: the same change in the network before
    training (``weights0``, a freshly built network from the same seed, on the same images):
    what resizing does to the selection before anything is learned. Band: the 95% bootstrap
    interval of the difference of the two means, resampling the channels of each network
    (channels move in both directions, so a mean shift could come from which channels happen to
    move). The last stage's change is reported beside it (the paper found the effect gone
    there).
    """
    shift = scale_shift(weights, small, large, early)  # (channels,)
    shift0 = scale_shift(weights0, small, large, early)
    stat, stat0 = shift.mean().item(), shift0.mean().item()
    band = bootstrap_band(shift, shift0, paired=False)
    end = scale_shift(weights, small, large, [last]).mean().item()
    stages = " and ".join(early)
    evidence = Evidence(
        statistic=f"weight on the dilated branch, {large:g}x minus {small:g}x, {stages}",
        trained=stat,
        control=stat0,
        control_label=UNTRAINED,
        band=band,
        band_how=band_how(len(shift), "channels", paired=False),
        fmt=".4f",
    )
    grow = f"from {small:g}x to {large:g}x"
    return Verdict(
        paper=(
            "as the object is enlarged (1.0x, 1.5x, 2.0x), the early and middle SK units put "
            "more weight on the larger kernel; in the last stage the effect is gone "
            "(Li et al. 2019, Sec. 5.3, Figs. 3-4)."
        ),
        run=(
            f"as the objects grow {grow}, the weight on the dilated branch changes by "
            f"{stat:+.4f} in {stages} (mean over {len(shift)} channels; {stat0:+.4f} before "
            f"training) and by {end:+.4f} in {last}."
        ),
        evidence=(evidence,),
        words={
            True: (
                f"As the objects grow {grow}, the early blocks move towards the larger kernel "
                f"({stat:+.4f}, against {stat0:+.4f} before training, band ±{band:.4f}): the "
                "selection follows the objects' size, as the paper found."
            ),
            False: (
                f"As the objects grow {grow}, the early blocks move away from the larger "
                f"kernel ({stat:+.4f}, against {stat0:+.4f} before training, band "
                f"±{band:.4f}): the opposite of the paper's pattern."
            ),
            None: (
                f"As the objects grow {grow}, the early blocks' weight on the larger kernel "
                f"changes by {stat:+.4f}, against {stat0:+.4f} before training: the difference "
                f"is within the band of ±{band:.4f}, so this run's selection does not follow "
                "the objects' size clearly enough to tell."
            ),
        },
    )
