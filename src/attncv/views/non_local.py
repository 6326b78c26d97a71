"""What the non-local chapter shows beyond the shared maps (:mod:`attncv.views.query_maps`):
the paper's observations against their controls, :func:`use_verdict` (the block, which starts as
the identity, is used: test-time ablation), :func:`nonlocal_maps_verdict` (its relations depend on
the query and reach far, against random theta/phi) and :data:`TWIN_PAPER` (the observation
:func:`attncv.views.where.where_verdict` tests on twin canvases), and the
comparison of its pairwise functions (trained by :func:`attncv.train.modes.train_modes`):
:func:`modes_table` and :func:`modes_verdict`, whose noise band :func:`mean_range` sizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from ..data import CifarData
from ..train import FitResult
from ..train.noise import Noise
from .block_use import _use_verdict, strongest_block
from .evidence_words import NO_DIFFERENCE, standard_error_how
from .plots import provenance
from .query_maps import (
    _maps_verdict,
    block_maps,
    map_stats,
    residual_share,
)
from .tables import Table
from .verdicts import Evidence, Verdict

# Wang et al. 2018, Sec. 4, Fig. 3: what "related content" means for the twin canvases
TWIN_PAPER = (
    "each position draws on related positions anywhere in the input (Wang et al. 2018, Sec. 4, "
    "Fig. 3): the positions of an object attend to a copy of it more than to another object "
    "as far away"
)


def use_verdict(
    off: Sequence[Evidence], uniform: Sequence[Evidence], scales: Mapping[str, float]
) -> Verdict:
    """The non-local block starts as the identity (its W_z BN at scale 0) and is used once
    trained: judged by test-time ablation at the block whose mean |BN scale| after W_z is
    largest (:func:`~attncv.views.block_use.strongest_block` of ``scales``, from
    :func:`~attncv.train.modes.wz_scales`); ``off`` and ``uniform`` as in
    :func:`~attncv.views.self_attention.use_verdict` (``off``: BN(W_z y) = 0)."""
    block = strongest_block(scales)
    value = next(v for k, v in scales.items() if k.split(" ")[-1] == block)
    return _use_verdict(
        off,
        uniform,
        block=block,
        scale="mean |BN scale|",
        value=value,
        paper="the BN after W_z starts at scale 0, so the block starts as the identity (Wang "
        "et al. 2018, Sec. 4); a block the network uses moves off it and matters to its output",
    )


def nonlocal_maps_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    *,
    where: str,
    control_label: str | None = None,
) -> Verdict:
    """The non-local block's relations (Fig. 3) against a trained block; statistics, control and
    bands as :func:`~attncv.views.self_attention.sagan_maps_verdict` (``control``: (D, N) values
    of :func:`~attncv.train.controls.matched_query_key`'s draws, or (N,) of one draw)."""
    return _maps_verdict(
        trained,
        control,
        where,
        "each position draws on related positions anywhere in the input, often far "
        "from it, and different positions on different ones (Wang et al. 2018, Sec. 4, Fig. 3)",
        control_label,
    )


def mean_range(n: int, *, draws: int = 200_000) -> float:
    """The expected range (max - min) of ``n`` independent standard normal draws (1.13 for 2,
    1.69 for 3, 2.06 for 4), by simulation with a fixed seed."""
    if n < 2:
        return 0.0
    x = torch.randn(draws, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return float((x.max(1).values - x.min(1).values).mean())


def modes_verdict(accuracies: Mapping[str, float], noise: Noise, n_test: int) -> Verdict:
    """The paper's pairwise functions against each other: the range (max - min) of the final
    test accuracies of single runs, one per mode. The paper: they agree (within half a point),
    i.e. a range of 0. The band is ``max(sqrt(2), mean_range(n)) * sd``: for more than two runs
    the range that noise alone gives as many single runs on average (for two runs on the seed
    noise, the 95% band of a difference, :meth:`~attncv.train.Noise.band`, as
    :func:`~attncv.views.verdicts.accuracy_evidence`); sd the larger of the baseline's seed sd
    (``noise``) and the test-image standard error of one accuracy on ``n_test`` images. One
    seed per mode cannot confirm a half-point agreement: within the band the outcome is too
    small to tell; beyond it, one mode stood out (the opposite)."""
    values = list(accuracies.values())
    n = len(values)
    p = min(max(sum(values) / n, 1 / n_test), 1 - 1 / n_test)
    se = (p * (1 - p) / n_test) ** 0.5
    seeds = noise.sd >= se
    sd, which = (
        (noise.sd, f"sd {noise.sd * 100:.1f} points from the baseline's seeds")
        if seeds
        else (se, f"{standard_error_how(n_test, 'test images')}, {se * 100:.1f} points")
    )
    factor = max(2**0.5, mean_range(n))  # two runs: sqrt(2) sd, as every accuracy comparison
    how = (  # two runs on the seed noise: the band of every single-run accuracy comparison
        noise.how()
        if n == 2 and seeds
        else f"{n} single runs: {factor:.2f} x {which}"
        + (" (the mean range of that many runs)" if n > 2 else " (sqrt 2: a difference)")
    )
    two = n == 2 and seeds  # two runs on the seed noise: the book's single-run band, at its level
    width = noise.band() if two else factor * sd
    spread = max(values) - min(values)
    best, worst = max(accuracies, key=accuracies.get), min(accuracies, key=accuracies.get)
    name = lambda m: m.replace("_", " ")  # noqa: E731
    evidence = Evidence(
        statistic=f"range of the {n} pairwise functions' final test accuracies",
        trained=spread,
        control=0.0,
        control_label=NO_DIFFERENCE,
        band=width,
        band_how=how,
        expected="below",
        fmt=".1%",
    )
    count = {2: "two", 3: "three", 4: "four"}.get(n, str(n))
    band = f"the ±{width * 100:.1f}-point band of {count} single runs"
    words = {
        None: f"The {count} pairwise functions end within {spread * 100:.1f} points of each "
        f"other ({name(best)} best, {name(worst)} worst), inside {band}: this run cannot tell "
        "them apart, which agrees with the paper but cannot confirm its half-point spread.",
        False: f"{name(best).capitalize()} beat {name(worst)} by {spread * 100:.1f} points, "
        f"beyond {band}: on this run the pairwise function mattered.",
        True: "",
    }
    accs = ", ".join(f"{name(k)} {v:.1%}" for k, v in accuracies.items())
    return Verdict(
        paper="the pairwise function matters little: Gaussian, embedded Gaussian, dot product "
        "and concatenation score within half a point of each other (Wang et al. 2018, Table 2a)",
        run=f"final test accuracy {accs}: a range of {spread * 100:.1f} points.",
        evidence=(evidence,),
        words=words,
    )


def modes_table(
    runs: Mapping[str, tuple[nn.Module, FitResult]], data: CifarData, *, block: str = "layer2.1"
) -> Table:
    """One row per pairwise function: final and best test accuracy, the mean
    :func:`~attncv.views.query_maps.residual_share` of the blocks, and
    :func:`~attncv.views.query_maps.map_stats` of ``block`` (only where its
    weights are distributions: the two Gaussians; the others divide by S and can be negative)."""
    images = data.split("test")[0][:100]
    rows = []
    for mode, (model, result) in runs.items():
        share = residual_share(model, data, images)
        cells = ["–", "–"]
        if mode in ("embedded_gaussian", "gaussian"):
            stats = map_stats(*block_maps(model, data, block))
            cells = [f"{stats['query_tv']:.2f}", f"{stats['far_ratio']:.2f}"]
        rows.append(
            [
                mode.replace("_", " "),
                f"{result.final_acc:.1%}",
                f"{result.best_acc:.1%}",
                f"{sum(share.values()) / len(share):.1%}",
                *cells,
            ]
        )
    return Table(
        ["pairwise function", "test acc", "best", "block share", "query TV", "far mass"],
        rows,
        caption=f"Block share: ||BN(W_z y)|| / ||x||, mean over the blocks; query TV and far "
        f"mass (relative to a distance-blind map) at {block}, on 100 test images. "
        + provenance([r for _, r in runs.values()]),
    )
