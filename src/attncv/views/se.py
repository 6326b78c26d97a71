"""What SE learned, as figures and a verdict, for the SE chapter.

:func:`excitations` and :func:`spread_plot`: SE's per-class excitations, early against late
(Hu et al. 2018, Sec. 7.2: early ones are shared by the classes, late ones class-specific), from
:func:`attncv.views.probe.class_means`. :func:`se_verdict` reads the late block's class spread
against the early block's, and their ratio (:func:`spread_ratio`) against the network before
training, with bootstrap bands over the test images (:mod:`attncv.views.verdicts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..data import CifarData
from . import style
from .evidence_words import UNTRAINED, at_block, band_how
from .plots import caption
from .probe import short_blocks, spread_resamples, tap_weights
from .verdicts import MIXED, Evidence, Verdict, half_interval


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


def spread_plot(spreads: dict[str, dict[str, float]], *, dataset: str = "") -> Figure:
    """Class spread per block, one line per model (``{label: class_spread(...)}``)."""
    fig, ax = plt.subplots(figsize=style.figsize(3.4), constrained_layout=True)
    for label, spread in spreads.items():
        ax.plot(short_blocks(spread), list(spread.values()), marker="o", label=label)
    ax.set(
        xlabel="block (stage.block, early to late)",
        ylabel="class spread",
        title="How class-specific the gates are",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return caption(fig, f"Data: {dataset}.") if dataset else fig


def gates(model: nn.Module, data: CifarData) -> dict[str, Tensor]:
    """Every channel gate (SE, ECA) for each test image: ``{block: (N, C)}``."""
    images = data.split("test")[0]
    return {b: g.flatten(1) for b, g in tap_weights(model, data, images, "channel").items()}


def spread_ratio(
    gates: dict[str, Tensor], labels: Tensor, *, early: str, late: str, num_classes: int
) -> float:
    """The class spread of the ``late`` block's gates over that of the ``early`` block's
    (:func:`gates`, one label per test image): above 1 when the late gates depend more on the
    class."""
    pair = {b: gates[b] for b in (late, early)}
    spreads = spread_resamples(pair, labels, num_classes, resamples=0)  # all images only
    return float(spreads[late][-1] / spreads[early][-1])


def se_verdict(
    gates: dict[str, Tensor],
    gates0: dict[str, Tensor],
    labels: Tensor,
    *,
    num_classes: int,
    early: str = "layer2.0",
    late: str = "layer4.0",
    resamples: int = 1000,
    seed: int = 0,
) -> Verdict:
    """Are the late excitations more class-specific than the early ones, as in Hu et al. (2018)?

    Two pieces of evidence, both on the class spread (the standard deviation across classes of
    each channel's class-mean gate, averaged over the channels) of the test images' ``gates``
    (from :func:`gates`):

    - the paper's pattern: the ``late`` block's class spread against the ``early`` block's,
      measured the same way on the same images (the early block is the control);
    - that training put it there: :func:`spread_ratio`, late over early, against the same ratio
      for the network before training (``gates0``: a freshly built network from the same seed).

    Bands: the 95% bootstrap interval of each difference, resampling the test images (one
    resample serves both blocks and both networks): every class mean rests on about a hundred
    images, so the spreads carry sampling noise of their own. The words say what each showed.
    """
    n = len(labels)
    pairs = {"late": gates[late], "early": gates[early]}
    pairs |= {"late0": gates0[late], "early0": gates0[early]}  # the network before training
    spreads = spread_resamples(pairs, labels, num_classes, resamples=resamples, seed=seed)
    late_s, early_s = spreads["late"], spreads["early"]  # (R + 1,): resamples, then all images
    ratio, ratio0 = late_s / early_s, spreads["late0"] / spreads["early0"]
    r, r0 = ratio[-1].item(), ratio0[-1].item()
    big, small = late_s[-1].item(), early_s[-1].item()
    b1, b2 = half_interval((ratio - ratio0)[:-1]), half_interval((late_s - early_s)[:-1])
    how = band_how(n, "test images")  # one resample serves both blocks and both networks
    against_untrained = Evidence(
        statistic=f"class spread, {late} over {early}",
        trained=r,
        control=r0,
        control_label=UNTRAINED,
        band=b1,
        band_how=how,
        fmt=".2f",
    )
    against_early = Evidence(
        statistic=f"class spread at {late}",
        trained=big,
        control=small,
        control_label=at_block("class spread", early),
        band=b2,
        band_how=how,
        fmt=".4f",
    )
    blocks = {
        True: f"the late gates ({late}) are more class-specific than the early ones ({early}): "
        f"class spread {big:.4f} against {small:.4f}",
        False: f"the early gates ({early}) are more class-specific than the late ones ({late}): "
        f"class spread {small:.4f} against {big:.4f}",
        None: f"the late and the early gates are about as class-specific ({big:.4f} at {late}, "
        f"{small:.4f} at {early}, within the band of ±{b2:.4f})",
    }[against_early.holds]
    learned = {
        True: f"training raised the late/early ratio to {r:.2f}, from {r0:.2f} before training "
        f"(band ±{b1:.2f})",
        False: f"training lowered the late/early ratio to {r:.2f}, from {r0:.2f} before "
        f"training (band ±{b1:.2f})",
        None: f"the late/early ratio, {r:.2f}, is within the band (±{b1:.2f}) of the "
        f"untrained network's {r0:.2f}",
    }[against_untrained.holds]
    verdict = Verdict(
        paper=(
            "early excitations are nearly the same for every class, late ones class-specific "
            "(Hu et al. 2018, Sec. 7.2, Fig. 6)."
        ),
        run=(
            f"the class spread of the gates at {late} is {r:.2f} times that at {early} after "
            f"training, {r0:.2f} times before training."
        ),
        evidence=(against_early, against_untrained),
    )
    ending = {
        True: "This is the paper's pattern, and training put it there.",
        False: "This run shows the opposite of the paper's pattern.",
        None: "This run cannot tell whether training made the late gates the class-specific ones.",
        MIXED: "The two comparisons disagree: this run shows neither the paper's pattern nor its "
        "opposite.",
    }[verdict.holds]
    sentence = f"On this run {blocks}; {learned}. {ending}"
    return replace(verdict, words=dict.fromkeys((True, False, None, MIXED), sentence))
