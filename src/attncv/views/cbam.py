"""What CBAM learned, as figures and verdicts, for the CBAM chapter.

:func:`centre_border` (is the spatial gate higher on the centre?) and :func:`cbam_verdict`
against the network before training (:func:`attncv.train.controls.untrained`);
:func:`class_gates` and :func:`specificity_verdict` (are the late channel gates more
class-specific?); :data:`CBAM_ABLATION`, the paper's ablations as the module's keywords. Every
verdict compares the trained network with a control measured the same way on the same test
images, with a band from a paired bootstrap over the images (:func:`~.verdicts.paired_evidence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from . import style
from .evidence_words import UNTRAINED, band_how
from .plots import MAP_CMAP, caption
from .probe import spread_resamples
from .verdicts import (
    MIXED,
    Evidence,
    Verdict,
    by_outcome,
    half_interval,
    join_names,
    paired_evidence,
)


def centre_mask(h: int, w: int) -> Tensor:
    """True on the centre of an (h, w) map: the middle half of each side (a quarter of the
    area, rounded outwards to whole cells; at least one cell)."""
    rows = torch.zeros(h, dtype=torch.bool)
    cols = torch.zeros(w, dtype=torch.bool)
    rows[h // 4 : h - h // 4] = True
    cols[w // 4 : w - w // 4] = True
    return rows[:, None] & cols[None, :]  # (h, w)


MIN_SIDE = 8  # cells: smaller maps have no centre and border that a 7x7 convolution tells apart


def centre_border(maps: Tensor) -> Tensor:
    """Per image, the mean gate on the centre minus the mean gate on the border
    (``maps``: (N, 1, h, w) or (N, h, w)): (N,). CIFAR's objects are roughly centred, so a
    positive value means the gate is higher where the object usually is. A map with no border
    (1x1, 2x2) gives NaN."""
    m = maps.reshape(maps.shape[0], *maps.shape[-2:]).double()  # (N, h, w)
    centre = centre_mask(*m.shape[-2:])
    if centre.all():
        return torch.full((m.shape[0],), float("nan"), dtype=torch.float64)
    return m[:, centre].mean(1) - m[:, ~centre].mean(1)  # (N,)


CBAM_PAPER = (
    "CBAM networks attend to the target object: Grad-CAM of the whole network covers the "
    "object better than a plain ResNet's (Woo et al. 2018, Sec. 4.3, Fig. 4); this run tests "
    "a proxy on the spatial gate itself, not Grad-CAM"
)


def cbam_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    *,
    control_label: str = UNTRAINED,
) -> Verdict:
    """Is CBAM's spatial gate higher on the image centre than around it, more than in its
    control?

    ``trained`` and ``control``: ``{stage: (N, 1, h, w) or (N, h, w)}`` gates on the same test
    images. One :class:`~.verdicts.Evidence` per stage whose map is at least :data:`MIN_SIDE`
    cells a side: on a 4x4 map the "centre" is 2x2 cells, and the zero-padded 7x7 convolution
    sees the whole map, padding included, from every cell, so centre and border are not
    different places to it. The control matters because the zero padding alone makes a gate
    differ between border and centre, trained or not."""
    names, evidence = [], []
    for stage, t in trained.items():
        if min(t.shape[-2:]) < MIN_SIDE:
            continue
        names.append(stage)
        evidence.append(
            paired_evidence(
                f"centre minus border, {stage} ({t.shape[-2]}x{t.shape[-1]})",
                centre_border(t),
                centre_border(control[stage]),
                control_label,
            )
        )
    if not evidence:
        raise ValueError(f"cbam_verdict needs a map of at least {MIN_SIDE}x{MIN_SIDE} cells.")
    side = by_outcome(evidence, names)
    up = (
        f"higher on the centre than {control_label} on {join_names(side[True])}"
        if side[True]
        else ""
    )
    down = f"lower on the centre on {join_names(side[False])}" if side[False] else ""
    same = f"within the band on {join_names(side[None])}" if side[None] else ""
    found = "; ".join(p for p in (up, down, same) if p)
    return Verdict(
        paper=CBAM_PAPER,
        run="the spatial gate's mean on the centre of its map (the middle half of each side) "
        "minus its mean on the border, per test image, at the last block of each stage of "
        f"{MIN_SIDE}x{MIN_SIDE} cells or more",
        evidence=tuple(evidence),
        words={
            True: f"The trained gate is {found}: at every stage it turns up the middle of "
            "the frame, where CIFAR's objects usually are.",
            False: f"The trained gate is {found}: "
            + (
                "the stages disagree, so the gate as a whole does not single out the middle "
                "of the frame, where CIFAR's objects usually are."
                if side[True]
                else "training turned the middle of the frame, where CIFAR's objects usually "
                "are, down relative to the border."
            ),
            None: f"The trained gate is {found}: no stage prefers the middle of the frame "
            "beyond the noise.",
            MIXED: f"The trained gate is {found}: the stages disagree, so the gate as a whole "
            "does not single out the middle of the frame, where CIFAR's objects usually are.",
        },
    )


def class_gates(means: Mapping[str, Tensor], classes: Sequence[str], *, note: str = "") -> Figure:
    """Mean channel gate per class (rows) and channel (columns), one panel per block in two
    columns, on the gate's whole scale [0, 1] with one colour bar (``{block: (K, C)}``)."""
    cols = min(2, len(means))
    nrows = -(-len(means) // cols)
    fig, axes = plt.subplots(
        nrows,
        cols,
        figsize=style.figsize(2.6 * nrows + 0.6),
        squeeze=False,
        constrained_layout=True,
    )
    im = None
    for ax, (block, g) in zip(axes.ravel(), means.items(), strict=False):
        im = ax.imshow(
            g.numpy(), aspect="auto", cmap=MAP_CMAP, vmin=0, vmax=1, interpolation="nearest"
        )
        ax.set(title=f"{block} ({g.shape[1]} ch.)", xlabel="channel", yticks=[])
    for ax in axes[:, 0]:
        ax.set_yticks(range(len(classes)), classes)
    for ax in axes.ravel()[len(means) :]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="mean channel gate")
    return caption(fig, note) if note else fig


def specificity_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    labels: Tensor,
    num_classes: int,
    *,
    control_label: str = UNTRAINED,
    resamples: int = 500,
    seed: int = 0,
) -> Verdict:
    """Are the late channel gates more class-specific than the early ones, more so than in the
    control?

    ``trained`` and ``control``: per-image channel gates ``{block: (N, C, ...)}`` on the same
    test images (``labels``: (N,)), first and last block in order. Statistic: the class spread
    of the last block over that of the first (:func:`~.probe.spread_resamples`, as SE's
    :func:`~.se.se_verdict`). A ratio is not a mean over images, so the band is the
    half-width of the 95% interval of the difference of the two ratios over ``resamples``
    paired bootstrap resamples of the images."""
    blocks = list(trained)
    first, last = blocks[0], blocks[-1]
    pairs = {"t1": trained[first], "tn": trained[last], "c1": control[first], "cn": control[last]}
    sp = spread_resamples(pairs, labels, num_classes, resamples=resamples, seed=seed)
    ratio, ratio0 = sp["tn"] / sp["t1"], sp["cn"] / sp["c1"]  # resamples, then all images
    t, c = ratio[-1].item(), ratio0[-1].item()
    e = Evidence(
        statistic=f"class spread of {last} over {first}",
        trained=t,
        control=c,
        control_label=control_label,
        band=half_interval((ratio - ratio0)[:-1]),
        band_how=band_how(len(labels), "test images"),
        fmt=".2f",
    )
    return Verdict(
        paper="early excitations are shared by the classes, late ones class-specific "
        "(Hu et al. 2018, SE, Sec. 7.2)",
        run=f"the spread across classes of the mean channel gate, {last} over {first}, "
        "trained and before training",
        evidence=(e,),
        words={
            True: f"The late gates are {t:.1f} times as class-specific as the early ones, "
            f"against {c:.1f} times before training: training made the late gates the more "
            "class-specific ones, as SE's paper found.",
            False: f"The late gates are {t:.1f} times as class-specific as the early ones, "
            f"against {c:.1f} times before training: training made the early gates the more "
            "class-specific ones relative to the late, against SE's finding.",
            None: f"The late gates are {t:.1f} times as class-specific as the early ones, "
            f"against {c:.1f} times before training: within the noise, so the ratio may come "
            "from the architecture and the images rather than from training.",
        },
    )


CBAM_ABLATION = {  # the paper's Tables 1-3 as the module's keywords (the default is its CBAM)
    "channel gate only": {"spatial": False},
    "spatial gate only": {"channel": False},
    "average pooling only": {"pool_types": ["avg"]},
    "3x3 spatial kernel": {"kernel_size": 3},
    "spatial, then channel": {"order": "spatial_first"},
    "parallel": {"order": "parallel"},
}
