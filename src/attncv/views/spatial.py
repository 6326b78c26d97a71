"""Figures and measurements of the spatial-attention chapters: attention of chosen query pixels
over an image, how learned scales grew, images and their spatial-transformer warps, the learned
transforms; and the statistics and verdicts of the self-attention and non-local chapters.

- :func:`residual_share`: how much a residual attention block changes its input (0 at its start);
- :func:`map_stats_per_image` (and its mean :func:`map_stats`): whether position-attention maps
  depend on the query and reach far from it, per test image (for a paired bootstrap band);
- :func:`gamma_verdict`, :func:`wz_verdict`, :func:`sagan_maps_verdict`,
  :func:`nonlocal_maps_verdict` and :func:`modes_verdict`: the papers' observations against a run.

Figures carry their provenance in a caption under them (:func:`attncv.views.plots.caption`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..attention.non_local import MODES, NonLocal
from ..attention.self_attention import SelfAttention
from ..data import CifarData
from ..train import FitResult, Profile, train_model
from .plots import caption, overlay, provenance, to_rgb
from .probe import block_of, tap_weights
from .tables import Table
from .verdicts import Verdict, both, judge


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


# --- what the self-attention and non-local blocks learned: statistics and verdicts ---

POSITION_BLOCKS = (SelfAttention, NonLocal)  # residual blocks: output = input + branch
USE_BAND = (0.01, 0.05)  # residual share: below, the branch is unused; above, it is used
TV_BAND = (0.10, 0.20)  # query dependence: below, one map for all queries; above, query-specific
FAR_BAND = (0.25, 0.75)  # far mass / distance-blind: below, local attention; above, long-range
FAR = 0.25  # "far": beyond this fraction of the grid's longer side from the query
MODES_BAND = (2.0, 3.0)  # accuracy range of the modes, in standard errors of a difference


@torch.no_grad()
def residual_share(
    model: nn.Module, data: CifarData, images: Tensor, *, blocks: tuple[type, ...] = POSITION_BLOCKS
) -> dict[str, float]:
    """How much each residual attention block changes its input, ``||block(x) - x|| / ||x||`` per
    image, averaged over uint8 ``images``: ``{block: share}`` (``"layer2.0"``). 0 at
    initialisation (gamma = 0, or the non-local block's BN scale = 0); it is the branch's size
    whatever the value convolution's scale, which a raw gamma is not."""
    shares: dict[str, list[Tensor]] = {}

    def hook(name: str):
        def record(_module: nn.Module, inputs: tuple[Tensor, ...], out: Tensor) -> None:
            x = inputs[0].flatten(1).float()  # (N, C H W)
            ratio = (out.flatten(1).float() - x).norm(dim=1) / x.norm(dim=1).clamp_min(1e-12)
            shares.setdefault(name, []).append(ratio)  # (N,)

        return record

    handles = [
        m.register_forward_hook(hook(block_of(n)))
        for n, m in model.named_modules()
        if isinstance(m, blocks)
    ]
    was_training = model.training
    model.eval()
    try:
        for batch in images.split(500):
            model(data.normalize(batch))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return {name: torch.cat(r).mean().item() for name, r in shares.items()}


def grid_distances(grid: tuple[int, int], keys: tuple[int, int] | None = None) -> Tensor:
    """Distances (L, S) between the query cells of ``grid`` and the key cells of ``keys`` (default
    ``grid``; a coarser grid, e.g. sub-sampled keys, covers the same area), in query cells."""
    keys = keys or grid

    def centres(g: tuple[int, int]) -> Tensor:  # (n, 2), in query-cell units
        rows = (torch.arange(g[0]) + 0.5) * grid[0] / g[0] - 0.5
        cols = (torch.arange(g[1]) + 0.5) * grid[1] / g[1] - 0.5
        return torch.cartesian_prod(rows, cols)

    return torch.cdist(centres(grid), centres(keys))  # (L, S)


def map_stats_per_image(
    weights: Tensor, grid: tuple[int, int], *, keys: tuple[int, int] | None = None, far: float = FAR
) -> dict[str, Tensor]:
    """Per-image values (N,) of the two statistics of position-attention maps (N, L, S), each row
    a distribution over the S keys (softmax weights); ``grid`` is the (h, w) of the L queries,
    ``keys`` the (h, w) of the keys (default ``grid``; a coarser grid covers the same area):

    - ``query_tv``: the mean total-variation distance ``0.5 sum_j |w_aj - w_bj|`` between the
      maps of two different queries a, b of the image: 0 when every query sees the same map
      (attention is then one global pooling), 1 when their maps do not overlap;
    - ``far_ratio``: the mean mass beyond ``far`` times the grid's longer side from the query,
      over the share of key positions there (what a distance-blind map, e.g. a uniform one, puts
      there): 1 for a distance-blind map, near 0 for attention confined to the neighbourhood.

    Stable API, shared by the spatial and mixed chapters: per-image values are what
    :func:`attncv.views.verdicts.bootstrap_band` resamples (paired: the same images through the
    trained block and its control, e.g. :func:`random_projections`). :func:`map_stats` is their
    mean.
    """
    if weights.dim() != 3 or weights.numel() == 0 or weights.min() < 0:
        raise ValueError("map_stats needs weights (N, L, S) with rows that are distributions.")
    if not torch.allclose(weights.sum(-1), torch.ones(()), atol=1e-3):
        raise ValueError("map_stats needs rows that sum to one (a softmax over the keys).")
    _, length, _ = weights.shape
    w = weights.float()
    if length > 1:  # the diagonal (a query with itself) adds 0
        pairs = torch.stack([0.5 * torch.cdist(m[None], m[None], p=1.0).sum() for m in w])
        query_tv = pairs / (length * (length - 1))
    else:
        query_tv = torch.zeros(len(w))
    radius = far * max(grid)
    mask = (grid_distances(grid, keys) > radius).float()  # (L, S): 1 where far
    mass = (w * mask).sum(-1).mean(-1)  # (N,): mean far mass per row
    share = mask.mean(-1).mean()  # what a distance-blind row puts there
    far_ratio = mass / share if share > 0 else torch.full_like(mass, float("nan"))
    return {"query_tv": query_tv, "far_ratio": far_ratio}


def map_stats(
    weights: Tensor, grid: tuple[int, int], *, keys: tuple[int, int] | None = None, far: float = FAR
) -> dict[str, float]:
    """The means over the images of :func:`map_stats_per_image` (``query_tv``, ``far_ratio``),
    and ``far``: the distance used, in query cells."""
    per = map_stats_per_image(weights, grid, keys=keys, far=far)
    return {
        "query_tv": per["query_tv"].mean().item(),
        "far_ratio": per["far_ratio"].mean().item(),
        "far": far * max(grid),
    }


def block_maps(
    model: nn.Module, data: CifarData, block: str, *, images: int = 100
) -> tuple[Tensor, tuple[int, int]]:
    """The position weights (n, L, S) of ``block`` (e.g. ``"layer2.1"``) on the first ``images``
    test images, and the block's query grid."""
    test = data.split("test")[0][:images]
    maps = tap_weights(model, data, test, "position")
    if block not in maps:
        raise ValueError(f"no position tap at {block!r}; taps: {sorted(maps)}.")
    length = maps[block].shape[1]
    side = round(length**0.5)  # CIFAR's square maps
    return maps[block], (side, side)


def random_projections(model: nn.Module, *, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose attention blocks have freshly initialised query and key
    projections (self-attention's query and key, the non-local block's theta and phi), the rest
    as trained: the maps the same features give before any learning of *where* to look."""
    import copy

    twin = copy.deepcopy(model)
    torch.manual_seed(seed)
    for m in twin.modules():
        if isinstance(m, SelfAttention):
            m.query.reset_parameters()
            m.key.reset_parameters()
        elif isinstance(m, NonLocal) and hasattr(m, "theta"):
            m.theta.reset_parameters()
            m.phi.reset_parameters()
    return twin


def _band(values: tuple[float, float], expected: str = "above") -> dict[str, object]:
    """``judge`` arguments for a dead band from ``values[0]`` to ``values[1]``."""
    low, high = values
    return {"expected": expected, "neutral": (low + high) / 2, "band": (high - low) / 2}


def _use(shares: Mapping[str, float]) -> tuple[float, str, bool | None]:
    mean = sum(shares.values()) / max(len(shares), 1)
    low, high = USE_BAND
    text = (
        f"the branch adds {min(shares.values()):.1%} to {max(shares.values()):.1%} of its "
        f"input's norm, mean {mean:.1%} (unused below {low:.0%}, used above {high:.0%})"
        if shares
        else "no attention block found"
    )
    return mean, text, judge(mean, **_band(USE_BAND)) if shares else None


def gamma_verdict(gammas: Mapping[str, float], shares: Mapping[str, float]) -> Verdict:
    """SAGAN's gamma, which starts at 0, against the claim that the network learns to use the
    attention. The statistic is the mean :func:`residual_share` over the blocks (gamma alone is
    not comparable: the value convolution's scale trades against it). The dead band
    :data:`USE_BAND` is a convention, not noise (over the test images the share varies in the
    third decimal): under 1% of its input's norm the branch changes the features by little more
    than bf16's rounding (0.4%), "unused"; above 5% it is a visible part of them, "used"."""
    mean, text, holds = _use(shares)
    values = ", ".join(f"{v:.3f}" for v in gammas.values())
    return Verdict(
        paper="gamma starts at 0 so the network can first rely on local cues and then learn to "
        "give weight to the non-local evidence (Zhang et al. 2019, Sec. 3)",
        run=f"gamma = {values} after training; {text}.",
        holds=holds,
    )


def wz_verdict(scales: Mapping[str, float], shares: Mapping[str, float]) -> Verdict:
    """The non-local block's W_z BN scale, which starts at 0, against the claim that the block
    is used; statistic and dead band as :func:`gamma_verdict`."""
    mean, text, holds = _use(shares)
    values = ", ".join(f"{v:.3f}" for v in scales.values())
    return Verdict(
        paper="the BN after W_z starts at scale 0, so the block starts as the identity (Wang "
        "et al. 2018, Sec. 4); a block the network uses moves off it",
        run=f"mean |BN scale| = {values} after training; {text}.",
        holds=holds,
    )


def use_table(
    scales: Mapping[str, float], shares: Mapping[str, float], *, scale: str, images: int
) -> Table:
    """Per block: its learned scale (from :func:`gammas` or :func:`wz_scales`) and its
    :func:`residual_share` over ``images`` test images."""
    rows = []
    for key, value in scales.items():
        block = block_of(key.split(" ")[-1])  # "gamma layer2.0.after" -> "layer2.0"
        share = f"{shares[block]:.1%}" if block in shares else "–"
        rows.append([block, f"{value:.3f}", share])
    return Table(
        ["block", scale, "share of the input's norm"],
        rows,
        caption=f"Share: ||block(x) - x|| / ||x|| per image, the mean over {images} test images.",
    )


def _maps(stats: Mapping[str, float], where: str, untrained: Mapping[str, float] | None):
    """The run text, the outcome, and a note comparing with the random-projection reference."""
    tv, far = stats["query_tv"], stats["far_ratio"]
    ref, note = "", ""
    if untrained:
        ref = f"; random query/key on the same features: {untrained['query_tv']:.2f}"
        gap = judge(tv, **_band((untrained["query_tv"] - 0.05, untrained["query_tv"] + 0.05)))
        note = {
            True: "the trained maps are more query-specific than random projections give: "
            "that part was learned.",
            False: "the trained maps are less query-specific than random projections give: "
            "training made the maps of different queries more alike.",
            None: "random projections of the same features give maps as query-specific: that "
            "part needs no training.",
        }[gap]
    run = (
        f"at {where}, maps of two queries differ by a total variation of {tv:.2f} (one map for "
        f"every query: 0{ref}); the mass beyond {stats['far']:g} positions is {far:.2f}x what a "
        f"distance-blind map puts there (a local map: near 0)."
    )
    holds = both(judge(tv, **_band(TV_BAND)), judge(far, **_band(FAR_BAND)))
    return run, holds, note


def sagan_maps_verdict(
    stats: Mapping[str, float], *, where: str, untrained: Mapping[str, float] | None = None
) -> Verdict:
    """SAGAN's attention maps (Fig. 5) against :func:`map_stats` of a trained block: they differ
    between queries (``query_tv`` above :data:`TV_BAND`) and reach beyond the neighbourhood
    (``far_ratio`` above :data:`FAR_BAND`). With ``untrained`` (the statistics of
    :func:`random_projections`), a note says whether the query dependence exceeds what random
    projections of the same features give (by more than 0.05 either way).

    The bands are definitions of what counts as an effect, several times wider than the
    statistics' variation between two sets of 100 test images (a few hundredths): maps that share
    90% of their mass are one map; far mass under a quarter of the distance-blind share is local
    attention, over three quarters is not."""
    run, holds, note = _maps(stats, where, untrained)
    return Verdict(
        paper="attention follows similar colour and texture rather than spatial adjacency, and "
        "even nearby queries can have very different maps (Zhang et al. 2019, Sec. 5, Fig. 5)",
        run=run,
        holds=holds,
        note=note,
    )


def nonlocal_maps_verdict(
    stats: Mapping[str, float], *, where: str, untrained: Mapping[str, float] | None = None
) -> Verdict:
    """The non-local block's relations (Fig. 3) against :func:`map_stats`; bands as
    :func:`sagan_maps_verdict`."""
    run, holds, note = _maps(stats, where, untrained)
    return Verdict(
        paper="each position draws on related positions anywhere in the input, often far "
        "from it, and different positions on different ones (Wang et al. 2018, Sec. 4, Fig. 3)",
        run=run,
        holds=holds,
        note=note,
    )


def modes_verdict(accuracies: Mapping[str, float], n_test: int) -> Verdict:
    """The paper's pairwise functions against each other: the range (max - min) of the final
    test accuracies, in standard errors of a difference between two accuracies on ``n_test``
    images, ``sqrt(2 p (1 - p) / n)``. Four runs that differ only by noise have a range under
    2.6 such errors in 95% of cases (the range of four normal draws), so the dead band
    :data:`MODES_BAND` is 2 to 3: below, the modes agree within the noise (the paper's
    observation); above, one mode is better or worse beyond it."""
    values = list(accuracies.values())
    p = min(max(sum(values) / len(values), 1 / n_test), 1 - 1 / n_test)
    se = (2 * p * (1 - p) / n_test) ** 0.5
    spread = max(values) - min(values)
    accs = ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in accuracies.items())
    return Verdict(
        paper="the pairwise function matters little: Gaussian, embedded Gaussian, dot product "
        "and concatenation score within half a point of each other (Wang et al. 2018, Table 2a)",
        run=f"final test accuracy {accs}: a range of {spread:.1%}, {spread / se:.1f} standard "
        f"errors of a difference on {n_test:,} test images (noise alone: under 2.6 in 95% of "
        "cases).",
        holds=judge(spread / se, **_band(MODES_BAND, "below")),
    )


def train_modes(
    data: CifarData, profile: Profile, modes: Sequence[str] = MODES, *, progress: bool | str = True
) -> dict[str, tuple[nn.Module, FitResult]]:
    """ResNet-18 with the non-local block in each pairwise ``mode``, on the same data, seed and
    schedule, recording :func:`wz_scales`: ``{mode: (model, result)}``. The default mode trains
    exactly as ``train_model("non_local", ..., on_epoch=wz_scales)``, so the cache reuses it."""
    runs = {}
    for mode in modes:
        default = mode == "embedded_gaussian"
        runs[mode] = train_model(
            "non_local",
            data,
            profile,
            attention_kwargs=None if default else {"mode": mode},
            on_epoch=wz_scales,
            name=None if default else f"non_local ({mode.replace('_', ' ')})",
            progress=progress,
        )
    return runs


def modes_table(
    runs: Mapping[str, tuple[nn.Module, FitResult]], data: CifarData, *, block: str = "layer2.1"
) -> Table:
    """One row per pairwise function: final and best test accuracy, the mean
    :func:`residual_share` of the blocks, and :func:`map_stats` of ``block`` (only where its
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
