"""What channel attention learned, as figures, for the channel chapters.

- :func:`excitations` and :func:`spread_plot`: SE's per-class excitations, early against late
  (Hu et al. 2018, Sec. 7.2: early ones are shared by the classes, late ones class-specific),
  from :func:`attncv.views.probe.class_means`.
  :func:`se_verdict` reads the late/early ratio of their class spread.
- :func:`zoom`, :func:`zoom_grid` and :func:`branch_weights`: SK's weight on its larger kernel
  as the objects in the same images are made larger or smaller (Li et al. 2019, Sec. 5.3);
  :func:`scale_probe` trains on randomly rescaled images, :func:`sk_verdict` reads the change.
- :func:`kernels`: the 1-D kernels ECA learned, block by block; :func:`neighbour_ablation` and
  :func:`eca_verdict`: whether the trained gates use their neighbours; :func:`variants_table`
  and :func:`var2_verdict`: ECA against SE-Var2 (Wang et al. 2020, Table 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.nn import functional as F

from ..attention.eca import ECA
from ..data import CifarData, load_cifar
from ..data.augment import random_affine
from ..model import count_params, resnet18
from ..train import FitResult, Profile
from .plots import caption, to_rgb
from .probe import block_of, tap_weights
from .tables import Table
from .verdicts import Verdict, judge


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
    fig.suptitle("SK's selection as the objects in the test images are resized", fontsize=10)
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def scale_probe(
    profile: Profile, *, scale: tuple[float, float] = (0.5, 2.0)
) -> tuple[CifarData, dict[str, int]]:
    """The SK chapter's probe task: training images whose content is rescaled at random by a
    factor in ``scale`` each time they are drawn (after crop and flip; black outside the image
    when it shrinks), the test images left as they are. CIFAR's objects all fill the frame at about
    the same size, so a network trained on them has little reason to adapt its receptive field to
    size; the paper's ImageNet training crops random-size regions, so its networks see objects at
    many scales. Returns the data and the training overrides for :func:`attncv.train_model`: on
    a CPU's brief profile the whole offline subset (10,000 training images) and 10 epochs, about
    4 minutes for SK on 2 cores; elsewhere the profile's own sizes."""
    longer = profile.name == "brief" and profile.device == "cpu"
    sizes = {"train_size": 10_000, "test_size": None} if longer else {}
    data = load_cifar(**{**profile.data_kwargs(), **sizes})
    low, high = scale

    def rescale(images: Tensor, generator: torch.Generator | None) -> Tensor:
        return random_affine(
            images, rotation=0.0, scale=scale, translation=0.0, generator=generator
        )

    text = f"{data.description}, training images rescaled at random (x{low:g} to x{high:g})"
    return replace(data, transform=rescale, description=text), ({"epochs": 10} if longer else {})


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
    *,
    small: float = 1.0,
    large: float = 2.0,
    early: Sequence[str] = ("layer1", "layer2"),
    last: str = "layer4",
) -> Verdict:
    """Does the larger kernel gain weight in the early stages as the objects grow, as in Li et al.
    (2019)?

    Statistic: the change of the weight on the dilated branch from zoom ``small`` to ``large``,
    averaged over the channels of the ``early`` stages (the counterparts of the paper's SK_2_x and
    SK_3_x units); 0 is no change. The dead band is two standard errors of that mean over the
    channels: channels move in both directions, and a mean shift smaller than their spread allows
    could come from which channels happen to move. The last stage's mean change is reported
    beside it (the paper found the effect gone there).
    """
    shift = scale_shift(weights, small, large, early)  # (channels,)
    stat, band = shift.mean().item(), 2 * shift.std().item() / len(shift) ** 0.5
    end = scale_shift(weights, small, large, [last]).mean().item()
    return Verdict(
        paper=(
            "as the object is enlarged (1.0x, 1.5x, 2.0x), the early and middle SK units put "
            "more weight on the larger kernel; in the last stage the effect is gone "
            "(Li et al. 2019, Sec. 5.3, Figs. 3-4)."
        ),
        run=(
            f"weight on the dilated branch, {large:g}x minus {small:g}x: {stat:+.4f} in "
            f"{' and '.join(early)} (mean over {len(shift)} channels; too small to tell "
            f"within +-{band:.4f}), {end:+.4f} in {last}."
        ),
        holds=judge(stat, expected="above", band=band),
    )


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


@torch.no_grad()
def _correct(model: nn.Module, data: CifarData) -> Tensor:
    """Whether ``model`` classifies each test image correctly: bool (N,), in batches of 500."""
    was_training = model.training
    model.eval()
    images, labels = data.split("test")
    preds = torch.cat([model(data.normalize(b)).argmax(1) for b in images.split(500)])
    model.train(was_training)
    return (preds == labels).cpu()


@torch.no_grad()
def neighbour_ablation(model: nn.Module, data: CifarData) -> dict[str, float]:
    """How much a trained ECA network uses each gate's neighbouring channels.

    Every ECA gate's logit is ``z_i = w_0 y_i + sum_(j != 0) w_j y_(i+j)``. The test images are
    classified twice: as trained, and with every neighbour term ``y_(i+j)`` (j != 0) held at its
    mean over the test images, so each gate keeps its average level and its own channel's
    per-image information but loses its neighbours' (a mean ablation; zeroing the taps instead
    would also shift every gate). Returns the accuracies ``acc`` and ``ablated``, their paired
    difference ``drop`` and its standard error ``se`` over the images (the changed predictions
    give the noise of this comparison on this test set).
    """
    modules = [m for m in model.modules() if isinstance(m, ECA)]
    if not modules:
        raise ValueError("neighbour_ablation needs a model with ECA modules.")
    sums: dict[ECA, Tensor] = {}

    def record(m: nn.Module, inputs: tuple[Tensor, ...], _out: Tensor) -> None:
        sums[m] = sums.get(m, 0) + inputs[0].mean(dim=(2, 3)).sum(0)  # (C,)

    def ablate(m: nn.Module, inputs: tuple[Tensor, ...], _out: Tensor) -> Tensor:
        x = inputs[0]
        y = x.mean(dim=(2, 3))  # (N, C)
        mean = sums[m] / len(data.test_labels)  # (C,)
        kernel = m.kernel  # (1 or C, k)
        centre = kernel[:, m.kernel_size // 2]  # (1 or C,)
        z = _eca_logits(mean[None], kernel) + centre * (y - mean)  # (N, C)
        return x * torch.sigmoid(z)[:, :, None, None]

    handles = [m.register_forward_hook(record) for m in modules]
    try:
        correct = _correct(model, data)  # also fills the means
    finally:
        for h in handles:
            h.remove()
    handles = [m.register_forward_hook(ablate) for m in modules]
    try:
        ablated = _correct(model, data)
    finally:
        for h in handles:
            h.remove()
    diff = correct.float() - ablated.float()  # (N,) in {-1, 0, 1}
    return {
        "acc": correct.float().mean().item(),
        "ablated": ablated.float().mean().item(),
        "drop": diff.mean().item(),
        "se": (diff.std() / len(diff) ** 0.5).item(),
    }


def _eca_logits(y: Tensor, kernel: Tensor) -> Tensor:
    """``z_i = sum_j kernel[i, j] y_(i + j - k // 2)`` with zero padding: (N, C) from (N, C)."""
    k = kernel.shape[1]
    windows = F.pad(y, (k // 2, k // 2)).unfold(1, k, 1)  # (N, C, k)
    return (windows * kernel).sum(-1)  # (N, C)


def se_verdict(
    spread: dict[str, float],
    spread0: dict[str, float],
    *,
    early: str = "layer2.0",
    late: str = "layer4.0",
    band: float = 0.5,
) -> Verdict:
    """Are the late excitations more class-specific than the early ones, as in Hu et al. (2018)?

    Statistic: the ratio of the class spreads (:func:`~attncv.views.probe.class_spread`) of the
    ``late`` and the ``early`` block of the trained network; 1 is no difference. Ratios within
    ``band`` of 1 (0.5 to 1.5 by default) count as too small to tell: every class mean rests on
    only about 100 test images in the brief CPU run, so a spread carries sampling noise of its
    own, and one seed says nothing about another; the band asks for the late spread to be at
    least half as large again as the early one. The untrained network's ratio (``spread0``, same
    seed) is printed beside it: it shows what the architecture gives before any learning.
    """
    ratio = spread[late] / spread[early]
    ratio0 = spread0[late] / spread0[early]
    return Verdict(
        paper=(
            "early excitations are nearly the same for every class, late ones class-specific "
            "(Hu et al. 2018, Sec. 7.2, Fig. 6)."
        ),
        run=(
            f"class spread {spread[early]:.4f} at {early}, {spread[late]:.4f} at {late}: "
            f"late/early ratio {ratio:.1f} (the untrained network's: {ratio0:.1f}; no "
            f"difference: 1, too small to tell within {1 - band:.1f}-{1 + band:.1f})."
        ),
        holds=judge(ratio, expected="above", neutral=1.0, band=band),
    )


def eca_verdict(ablation: dict[str, float]) -> Verdict:
    """Does the trained ECA use its neighbouring channels (Wang et al. 2020)?

    Statistic: the drop in test accuracy when every gate's neighbour terms are held at their
    mean (:func:`neighbour_ablation`); 0 means the gates ignore their neighbours. The dead band
    is two standard errors of that paired difference over the test images (from the predictions
    the ablation changed), so a drop inside it could come from which images happen to be tested.
    """
    drop, band = ablation["drop"], 2 * ablation["se"]
    return Verdict(
        paper=(
            "local cross-channel interaction matters: each channel's weight is computed from "
            "its k neighbours, and ECA beats SE-Var2, its variant with one weight per channel "
            "and no interaction (Wang et al. 2020, Sec. 3.2, Table 2)."
        ),
        run=(
            f"holding every gate's neighbours at their mean takes the test accuracy from "
            f"{ablation['acc']:.1%} to {ablation['ablated']:.1%} ({-drop * 100:+.1f} points; "
            f"too small to tell within +-{band * 100:.1f})."
        ),
        holds=judge(drop, expected="above", band=band),
    )


def var2_verdict(eca: float, var2: float, *, band: float = 0.03) -> Verdict:
    """ECA's final test accuracy against SE-Var2's (Wang et al. 2020, Table 2: 77.43% against
    77.07% top-1 on ImageNet, ResNet-50).

    Statistic: the difference ECA - SE-Var2; 0 is no difference. The dead band, 3 points, is
    about two standard deviations of the difference of two single runs: the benchmark measured
    a seed-to-seed standard deviation of about 1 point per run at 10,000 images (so about 1.4
    for a difference), and a brief run on fewer images is noisier still. The paper's gap,
    0.36 points, is far inside it: one brief run cannot confirm it, only contradict it grossly.
    """
    return Verdict(
        paper=(
            "ECA is more accurate than SE-Var2, which has no cross-channel interaction: 77.43% "
            "against 77.07% top-1 on ImageNet with ResNet-50 (Wang et al. 2020, Table 2)."
        ),
        run=(
            f"ECA {eca:.1%}, SE-Var2 {var2:.1%}: {100 * (eca - var2):+.1f} points (one seed "
            f"each; too small to tell within +-{100 * band:.0f})."
        ),
        holds=judge(eca - var2, expected="above", band=band),
    )


def variants_table(rows: Sequence[tuple[str, str, dict, FitResult]], *, dataset: str = "") -> Table:
    """One line per trained variant ``(label, attention, attention_kwargs, result)``: the
    parameters it adds to ResNet-18 (width 64, 100 classes, as the papers count) and its final
    and best test accuracy in this run."""
    base = count_params(resnet18(100))
    lines = []
    for label, attention, kwargs, result in rows:
        added = count_params(resnet18(100, attention=attention, attention_kwargs=kwargs)) - base
        lines.append((label, f"{added:,}", f"{result.final_acc:.1%}", f"{result.best_acc:.1%}"))
    where = f" on {dataset}" if dataset else ""
    return Table(
        ["variant", "added parameters", "final test accuracy", "best"],
        lines,
        caption=(
            "Added parameters: ResNet-18 at width 64 with 100 classes, as the papers count. "
            f"Accuracy: this run{where}, one seed each."
        ),
    )
