"""What CBAM learned, as figures and verdicts, for the CBAM chapter.

"Where" is judged on cluttered canvases by the shared :func:`attncv.views.where.where_verdict`
(:data:`WHERE_PAPER` is its claim, :data:`WHERE_BLOCK` the block chosen in advance). Here:
:func:`class_gates` and :func:`spread_profile` draw the channel gates per class and their class
spread across the blocks; :func:`specificity_verdict` asks whether the last block's channel
gates are more class-specific than the first's, against the gates re-drawn on the trained
network (:func:`attncv.train.controls.redrawn_gates`); :data:`CBAM_ABLATION`, the paper's
ablations as the module's keywords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor

from . import style
from .evidence_words import REDRAWN_GATES, drawn, draws_band_how
from .plots import MAP_CMAP, caption
from .probe import spread_resamples
from .verdicts import Evidence, Verdict, half_interval

WHERE_BLOCK = "layer2.1"  # the last block of stage 2: a 16x16 map, chosen before any run
WHERE_PAPER = (
    "the spatial gate marks where the informative part is (Woo et al. 2018, Sec. 3); Grad-CAM "
    "of CBAM networks covers the target object better (Sec. 4.3, Fig. 4); this run tests the "
    "spatial gate itself, not Grad-CAM"
)
SPECIFICITY_BLOCKS = ("layer1.0", "layer4.1")  # the book's first and last block (SE's too)
SPECIFICITY_PAPER = (
    "early excitations are shared by the classes, late ones class-specific (Hu et al. 2018, "
    "SE, Sec. 7.2; CBAM's channel gate is SE's with a second descriptor)"
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


def spread_profile(
    spreads: Mapping[str, Mapping[str, float]], *, marked: Sequence[str] = (), note: str = ""
) -> Figure:
    """The class spread of the channel gates at every block (x), one line per network
    (``{label: {block: spread}}``: trained, re-drawn gates, before training), the ``marked``
    blocks (those a verdict compares) shaded."""
    fig, ax = plt.subplots(figsize=style.figsize(2.8), constrained_layout=True)
    for label, s in spreads.items():
        ax.plot(list(s), list(s.values()), marker="o", label=label)
    blocks = list(next(iter(spreads.values())))
    for b in marked:
        if b in blocks:
            ax.axvspan(blocks.index(b) - 0.3, blocks.index(b) + 0.3, color="0.9", zorder=0)
    ax.set(xlabel="block", ylabel="class spread of the channel gate", ylim=(0, None))
    ax.tick_params(axis="x", labelrotation=30)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return caption(fig, note) if note else fig


def block_spreads(
    gates: Mapping[str, Tensor], labels: Tensor, num_classes: int
) -> dict[str, float]:
    """The class spread of each block's per-image channel gates ``{block: (N, C, ...)}`` on
    all the images (:func:`~.probe.spread_resamples` without resampling): the profile
    :func:`spread_profile` draws."""
    return {
        b: v[-1].item()
        for b, v in spread_resamples(gates, labels, num_classes, resamples=1).items()
    }


def _ratios(
    gates: Mapping[str, Tensor], labels: Tensor, num_classes: int, resamples: int, seed: int
) -> Tensor:
    """(R + 1,): the last block's class spread over the first's in each paired resample of the
    images (:func:`~.probe.spread_resamples`), on all images last."""
    first, last = SPECIFICITY_BLOCKS
    sp = spread_resamples(
        {b: gates[b] for b in (first, last)}, labels, num_classes, resamples=resamples, seed=seed
    )
    return sp[last] / sp[first]


def specificity_verdict(
    trained: Mapping[str, Tensor],
    controls: Sequence[Mapping[str, Tensor]],
    labels: Tensor,
    num_classes: int,
    *,
    resamples: int = 500,
    seed: int = 0,
) -> Verdict:
    """Are the channel gates of the last block (:data:`SPECIFICITY_BLOCKS`) more
    class-specific, relative to the first block's, than the same network's with its gates
    re-drawn?

    ``trained``: per-image channel gates ``{block: (N, C, ...)}`` on the test images
    (``labels``: (N,)) at both blocks; ``controls``: the same for each of D networks of
    :func:`attncv.train.controls.redrawn_gates` (D >= 2). Statistic: the class spread of the
    last block over that of the first (:func:`~.probe.spread_resamples`). The control is its
    mean over the draws; the band, the 95% interval of the difference over ``resamples``
    bootstrap resamples that draw the images (the same for both sides) and the draws."""
    if len(controls) < 2:
        raise ValueError(
            f"specificity_verdict needs at least two re-drawn networks, got {len(controls)}."
        )
    missing = [b for b in SPECIFICITY_BLOCKS if b not in trained]
    if missing:
        raise ValueError(
            f"specificity_verdict needs the gates of {SPECIFICITY_BLOCKS}; {missing} missing "
            f"(got {sorted(trained)})."
        )
    t = _ratios(trained, labels, num_classes, resamples, seed)  # (R + 1,)
    c = torch.stack([_ratios(g, labels, num_classes, resamples, seed) for g in controls])
    gen = torch.Generator().manual_seed(seed + 1)
    pick = torch.randint(len(controls), (resamples, len(controls)), generator=gen)  # draws
    resampled = c[:, :-1].gather(0, pick.T).mean(0)  # (R,): each resample's draws' mean
    label = drawn(REDRAWN_GATES, len(controls))
    first, last = SPECIFICITY_BLOCKS
    e = Evidence(
        statistic=f"class spread of {last} over {first}",
        trained=t[-1].item(),
        control=c[:, -1].mean().item(),
        control_label=label,
        band=half_interval(t[:-1] - resampled),
        band_how=draws_band_how(len(labels), "test images", len(controls)),
        fmt=".2f",
    )
    pair = f"{e.trained:.2f} against {e.control:.2f}"
    return Verdict(
        paper=SPECIFICITY_PAPER,
        run=f"the spread across classes of the mean channel gate, {last} over {first}: "
        f"{pair} for {label}",
        evidence=(e,),
        words={
            True: f"Relative to the first block, the last block's channel gates are more "
            f"class-specific than with the gates re-drawn ({pair}): training made the late "
            "gates the class-specific ones, as SE's paper found.",
            False: f"Relative to the first block, the last block's channel gates are less "
            f"class-specific than with the gates re-drawn ({pair}): training made the early "
            "gates the more class-specific ones, against SE's finding.",
            None: f"Relative to the first block, the last block's channel gates are as "
            f"class-specific as with the gates re-drawn ({pair}, within the band): the ratio "
            "may come from the trained backbone's features rather than from the gates.",
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
