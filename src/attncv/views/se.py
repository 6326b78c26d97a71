"""What SE learned, as figures and a verdict, for the SE chapter.

:func:`excitations` and :func:`spread_plot`: SE's per-class excitations, early against late
(Hu et al. 2018, Sec. 7.2: early ones are shared by the classes, late ones class-specific), from
:func:`attncv.views.probe.class_means`. :func:`class_share` measures how class-specific a block's
gates are, one value per test image (their mean over the images is the share of the gates'
variance that the class explains); :func:`se_verdict` reads the late block's against the early
block's, and that difference against the same network with its gates re-drawn
(:func:`attncv.train.controls.redrawn_gates`), with 95% bands over the test images and the draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..data import CifarData
from . import style
from .evidence_words import REDRAWN_GATES, at_block, drawn
from .plots import caption
from .probe import short_blocks, tap_weights
from .verdicts import MIXED, Evidence, Verdict


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
        figsize=style.figsize(5.6),
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
            title=f"{block} ({means[block].shape[1]} ch.)",
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
        axes[1, col].set(xlabel="channel index", title="minus all-class mean")
        axes[1, col].set_yticks(range(k), classes[:k] if col == 0 else [])
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=min(k, 4))
    fig.colorbar(im, ax=axes[1, :].tolist(), shrink=0.9, label="difference")
    shown = "every class" if k == len(classes) else f"{k} of {len(classes)} classes"
    fig.suptitle(f"Mean SE gate per class ({shown})")
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def spread_plot(
    spreads: dict[str, dict[str, float]], *, dataset: str = "", ylabel: str = "class spread"
) -> Figure:
    """A class-specificity statistic per block, one line per model (``{label: {block: value}}``,
    from :func:`~attncv.views.probe.class_spread` or :func:`class_profile`)."""
    fig, ax = plt.subplots(figsize=style.figsize(3.4), constrained_layout=True)
    for label, spread in spreads.items():
        ax.plot(short_blocks(spread), list(spread.values()), marker="o", label=label)
    ax.set(
        xlabel="block (stage.block, early to late)",
        ylabel=ylabel,
        title="How class-specific the gates are",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def gates(model: nn.Module, data: CifarData) -> dict[str, Tensor]:
    """Every channel gate (SE, ECA) for each test image: ``{block: (N, C)}``."""
    images = data.split("test")[0]
    return {b: g.flatten(1) for b, g in tap_weights(model, data, images, "channel").items()}


def class_share(gates: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """How class-specific one block's gates are, one value per test image (N,).

    For image i of class y, ``u_i = mean_c (g_ic - m_c)(m_yc - m_c) / v_c`` with ``m_c`` the
    channel's mean gate over all images, ``m_yc`` its mean over class y and ``v_c`` its variance
    over all images. Summed over a class's images the products give that class's squared
    deviation, so the mean of ``u`` over the images is the mean over channels of the share of
    each gate's variance that the class explains (between-class over total variance, 0 to 1):
    near ``(K - 1) / (N - 1)`` when the gates ignore the class, 1 when they follow it alone.
    Per-image values let the bands resample the images. Scale-free, so blocks of different widths
    and gates of different spreads compare (Hu et al. 2018, Sec. 7.2, asks the same of Fig. 6).
    """
    g = gates.flatten(1).double()  # (N, C)
    labels = labels.to(g.device)
    if len(labels) != len(g):
        raise ValueError(f"class_share: {len(g)} images of gates but {len(labels)} labels.")
    m = g.mean(0)  # (C,)
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1).double()  # (K,)
    sums = torch.zeros(num_classes, g.shape[1], dtype=g.dtype).index_add_(0, labels, g)
    class_dev = sums / counts[:, None] - m  # (K, C)
    v = g.var(0, unbiased=False).clamp(min=1e-12)  # (C,): a constant gate explains nothing
    return ((g - m) * class_dev[labels] / v).mean(1).float()  # (N,)


def class_profile(gates: dict[str, Tensor], labels: Tensor, num_classes: int) -> dict[str, float]:
    """:func:`class_share` averaged over the images, for every block: ``{block: share}``."""
    return {b: class_share(g, labels, num_classes).mean().item() for b, g in gates.items()}


def se_verdict(
    gates: dict[str, Tensor],
    redrawn: Sequence[dict[str, Tensor]],
    labels: Tensor,
    *,
    num_classes: int,
    early: str = "layer1.0",
    late: str = "layer4.1",
) -> Verdict:
    """Are the late excitations more class-specific than the early ones, as in Hu et al. (2018)?

    Both pieces of evidence read :func:`class_share` of the test images' ``gates``
    (:func:`gates`) at the book's two blocks, the first of stage 1 (``early``) and the last of
    stage 4 (``late``):

    - the paper's pattern: the late block's class share against the early block's, on the same
      images (the early block is the control); band a paired bootstrap over the images;
    - that training put it there: the late-minus-early difference against the same difference
      in the trained network with only its gates re-drawn (``redrawn``, one ``{block: (N, C)}``
      per draw of :func:`~attncv.train.controls.redrawn_gates`); band a bootstrap over the
      images and the draws together (:meth:`Evidence.over_draws`).
    """
    if len(redrawn) < 2:
        raise ValueError(f"se_verdict needs at least two re-drawn networks, got {len(redrawn)}.")

    def share(g: dict[str, Tensor], block: str) -> Tensor:
        if block not in g:
            raise ValueError(f"se_verdict: no gates at {block!r}; the blocks are {sorted(g)}.")
        return class_share(g[block], labels, num_classes)

    late_s, early_s = share(gates, late), share(gates, early)
    control = torch.stack([share(g, late) - share(g, early) for g in redrawn])  # (D, N)
    against_early = Evidence.paired(
        f"class share of the gates at {late}",
        late_s,
        early_s,
        at_block("class share", early),
        fmt=".3f",
    )
    against_redrawn = Evidence.over_draws(
        f"class share, {late} minus {early}",
        late_s - early_s,
        control,
        drawn(REDRAWN_GATES, len(redrawn)),
        units="test images",
        fmt=".3f",
    )
    big, small = against_early.trained, against_early.control
    d, d0, b1 = against_redrawn.trained, against_redrawn.control, against_redrawn.band
    b2 = against_early.band
    blocks = {
        True: f"the late gates ({late}) are more class-specific than the early ones ({early}): "
        f"class share {big:.3f} against {small:.3f}",
        False: f"the early gates ({early}) are more class-specific than the late ones ({late}): "
        f"class share {small:.3f} against {big:.3f}",
        None: f"the late and the early gates are about as class-specific ({big:.3f} at {late}, "
        f"{small:.3f} at {early}, within the band of ±{b2:.3f})",
    }[against_early.holds]
    learned = {
        True: f"the late-minus-early difference, {d:+.3f}, is larger than with the gates "
        f"re-drawn ({d0:+.3f}, band ±{b1:.3f})",
        False: f"the late-minus-early difference, {d:+.3f}, is smaller than with the gates "
        f"re-drawn ({d0:+.3f}, band ±{b1:.3f})",
        None: f"the late-minus-early difference, {d:+.3f}, is within the band (±{b1:.3f}) of "
        f"the re-drawn gates' {d0:+.3f}",
    }[against_redrawn.holds]
    verdict = Verdict(
        paper=(
            "early excitations are nearly the same for every class, late ones class-specific "
            "(Hu et al. 2018, Sec. 7.2, Fig. 6)."
        ),
        run=(
            f"the class share of the gates is {big:.3f} at {late} and {small:.3f} at {early}; "
            f"the difference is {d:+.3f}, {d0:+.3f} with the gates re-drawn."
        ),
        evidence=(against_early, against_redrawn),
    )
    ending = {
        True: "This is the paper's pattern, and the trained gates, not the features alone, "
        "put it there.",
        False: "This run shows the opposite of the paper's pattern.",
        None: "This run cannot tell whether the trained gates made the late block the "
        "class-specific one.",
        MIXED: "The two comparisons disagree: this run shows neither the paper's pattern nor its "
        "opposite.",
    }[verdict.holds]
    sentence = f"On this run {blocks}; {learned}. {ending}"
    return replace(verdict, words=dict.fromkeys((True, False, None, MIXED), sentence))
