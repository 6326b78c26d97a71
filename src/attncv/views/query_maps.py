"""Maps of a query-based attention and their statistics, one concept shared by the
self-attention, non-local and DANet chapters: the attention of chosen query pixels over an image
(:func:`query_maps`), and what the maps and the blocks did.

- :func:`residual_share_per_image` (and its mean :func:`residual_share`): how much a residual
  attention block changes its input, per test image (0 at its start), shown by
  :func:`use_table`; whether the network *used* a block is judged by test-time ablation instead
  (:mod:`.block_use`), since a share cannot fall below the 0 it starts at;
- :func:`map_stats_per_image` (and its mean :func:`map_stats`): whether position-attention maps
  depend on the query and reach far from it, per test image; :func:`maps_evidence` and
  ``_maps_verdict`` set them against random query/key weights: one draw (:data:`MAP_CONTROL`,
  a paired band) or D draws at the trained logit scale (:func:`map_stats_over_draws` of
  :func:`attncv.train.controls.matched_query_key`, a band over images and draws);
- :func:`twin_per_canvas`: "similar content" (the twin's share) on the twin canvases of
  :func:`attncv.train.cluttered.twin_task`, per canvas, for
  :func:`attncv.views.where.where_verdict`.

Figures carry their provenance in a caption under them (:func:`attncv.views.plots.caption`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from ..attention.non_local import NonLocal
from ..attention.self_attention import SelfAttention
from ..attention.tap import AttentionMap
from ..data import CifarData
from . import style
from .evidence_words import (
    MATCHED_QUERY_KEY,
    RANDOM_QUERY_KEY,
    drawn,
    level_text,
)
from .objects import CANVASES, tap_at, twin_share_per_image
from .plots import caption, to_rgb
from .probe import block_of, tap_weights
from .tables import Table
from .verdicts import Evidence, Verdict, bootstrap_band


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
    """For each image (row): the photo with the query positions marked (white stars, numbered),
    then, beside it, the attention map of each query (column) over the key grid, each map divided
    by its maximum and drawn on one colour scale (0 to 1) with a colour bar. The maps are not
    blended over the photo, so the colour bar reads true.

    Args:
        images: uint8 (n, 3, H, W).
        weights: (n, L, S) position weights from a tap, L = grid[0] * grid[1] queries.
        queries: (row, col) positions on the query grid.
        grid: (h, w) of the feature map the block saw; ``keys``: of its keys (default: ``grid``).
        title: the figure's title; ``source``: where the images and model came from (a caption).
    """
    keys = keys or grid
    n, size = len(images), images.shape[-1]
    cols = len(queries) + 1
    side = min(1.25, (style.MAX_WIDTH - 0.8) / cols)
    fig, axes = plt.subplots(
        n,
        cols,
        figsize=style.figsize(side * n + 0.9, side * cols + 0.8),
        squeeze=False,
        constrained_layout=True,
    )
    scale = size / grid[1]
    for i in range(n):
        axes[i, 0].imshow(to_rgb(images[i])[0])
        for j, (r, c) in enumerate(queries):
            x, y = (c + 0.5) * scale - 0.5, (r + 0.5) * scale - 0.5
            axes[i, 0].plot(x, y, marker="*", color="white", markeredgecolor="black", ms=10)
            axes[i, 0].annotate(
                str(j + 1),
                (x, y),
                xytext=(3, 3),
                textcoords="offset points",
                color="white",
                fontsize=style.MIN_FONT,
            )
            row = weights[i, r * grid[1] + c].view(*keys).float()  # (h_k, w_k), sums to one
            im = axes[i, j + 1].imshow(
                (row / row.max()).cpu().numpy(),
                cmap="viridis",
                vmin=0.0,
                vmax=1.0,
                extent=(-0.5, size - 0.5, size - 0.5, -0.5),
            )
            axes[i, j + 1].plot(x, y, marker="*", color="white", markeredgecolor="black", ms=10)
            if i == 0:
                axes[i, j + 1].set_title(f"query {j + 1}")
        if i == 0:
            axes[i, 0].set_title("image")
        if titles:
            axes[i, 0].set_ylabel(titles[i])
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.7, label="weight / row max")
    if title:
        fig.suptitle(title)
    return caption(fig, source) if source else fig


# --- what the self-attention and non-local blocks learned: statistics and verdicts ---

POSITION_BLOCKS = (SelfAttention, NonLocal)  # residual blocks: output = input + branch
FAR = 0.25  # "far": beyond this fraction of the grid's longer side from the query


@torch.no_grad()
def residual_share_per_image(
    model: nn.Module, data: CifarData, images: Tensor, *, blocks: tuple[type, ...] = POSITION_BLOCKS
) -> dict[str, Tensor]:
    """How much each residual attention block changes its input, ``||block(x) - x|| / ||x||``
    (the norm over all positions and channels), per uint8 test image: ``{block: (N,)}``, the
    block named as ``"layer2.0"``. 0 at initialisation (gamma = 0, or the non-local block's BN
    scale = 0); it is the branch's size whatever the value convolution's scale, which a raw
    gamma is not."""
    shares: dict[str, list[Tensor]] = {}

    def hook(name: str):
        def record(_module: nn.Module, inputs: tuple[Tensor, ...], out: Tensor) -> None:
            x = inputs[0].flatten(1).float()  # (N, C H W)
            ratio = (out.flatten(1).float() - x).norm(dim=1) / x.norm(dim=1).clamp_min(1e-12)
            shares.setdefault(name, []).append(ratio.cpu())  # (N,)

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
    return {name: torch.cat(r) for name, r in shares.items()}


def residual_share(
    model: nn.Module, data: CifarData, images: Tensor, *, blocks: tuple[type, ...] = POSITION_BLOCKS
) -> dict[str, float]:
    """The mean over ``images`` of :func:`residual_share_per_image`: ``{block: share}``."""
    per = residual_share_per_image(model, data, images, blocks=blocks)
    return {name: v.mean().item() for name, v in per.items()}


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
    trained block and its control, e.g.
    :func:`~attncv.train.controls.random_projections`). :func:`map_stats` is their mean.
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


def use_table(
    scales: Mapping[str, float], shares: Mapping[str, Tensor | float], *, scale: str, images: int
) -> Table:
    """Per block: its learned scale (from :func:`~attncv.views.self_attention.gammas` or
    :func:`~attncv.train.modes.wz_scales`) and its share of the input's norm (per-image values
    from :func:`residual_share_per_image`, or means), with the 95% bootstrap band of the mean
    where per-image values are given."""
    rows = []
    for key, value in scales.items():
        block = block_of(key.split(" ")[-1])  # "gamma layer2.0.after" -> "layer2.0"
        share = shares.get(block)
        if share is None:
            cell = "–"
        elif isinstance(share, Tensor) and share.numel() > 1:
            cell = f"{share.double().mean().item():.1%} ± {bootstrap_band(share):.1%}"
        else:
            cell = f"{float(share.mean() if isinstance(share, Tensor) else share):.1%}"
        rows.append([block, f"{value:.3f}", cell])
    return Table(
        ["block", scale, "share of the input's norm"],
        rows,
        caption=f"Share: ||block(x) - x|| / ||x|| per image, the mean over {images} test images "
        f"(± the {level_text()} bootstrap band over the images).",
    )


MAP_CONTROL = RANDOM_QUERY_KEY  # the notebooks import it by this name (one draw, unscaled)


def map_stats_over_draws(
    networks: Sequence[nn.Module], data: CifarData, block: str, *, images: int = 100
) -> dict[str, Tensor]:
    """:func:`map_stats_per_image` of ``block`` through each of D networks (the draws of a
    control, :func:`attncv.train.controls.matched_query_key`) on the same first ``images`` test
    images: ``{statistic: (D, N)}``, the control values :func:`maps_evidence` bands over the
    images and the draws together."""
    if not networks:
        raise ValueError("map_stats_over_draws needs at least one network (a control's draws).")
    per = [map_stats_per_image(*block_maps(net, data, block, images=images)) for net in networks]
    return {key: torch.stack([p[key] for p in per]) for key in per[0]}


class _MapRead(Exception):
    """Ends a forward pass once the map it was run for has been read."""


@torch.no_grad()
def twin_per_canvas(
    model: nn.Module,
    canvas: CifarData,
    boxes: Sequence[Tensor],
    block: str,
    *,
    images: int = CANVASES,
    batch_size: int = 100,
) -> Tensor:
    """Per twin canvas (N,): the twin's share of the attention of ``block``'s queries on the target
    to the twin and to the distractor as far away (:func:`~.objects.twin_share_per_image`, 0.5:
    no preference for similar content), on the first ``images`` test canvases of
    :func:`attncv.train.cluttered.twin_task`, whose (target, twin, distractor) boxes are
    ``boxes``. Only ``block``'s tap listens (the other blocks keep their fused path), each batch's
    forward pass stops once its map is read, and the maps are read a batch at a time, so D
    control draws (:func:`~.where.over_draws`) stay cheap."""
    found = {
        block_of(name.removeprefix("1.")): m  # "1.layer2.1.after.tap" behind the downscale
        for name, m in model.named_modules()
        if isinstance(m, AttentionMap) and m.kind == "position"
    }
    tap = tap_at(found, block)
    test = canvas.split("test")[0][:images]
    target, twin, distractor = (b[: len(test)] for b in boxes)
    maps: list[Tensor] = []

    def keep(_module: nn.Module, _inputs: object, out: Tensor) -> None:
        maps.append(out.float().cpu())  # (n, L, L)
        raise _MapRead  # the rest of the network cannot change the map: stop here

    handle = tap.register_forward_hook(keep)
    was_training, values = model.training, []
    model.eval()
    try:
        for i in range(0, len(test), batch_size):
            try:
                model(canvas.normalize(test[i : i + batch_size]))
            except _MapRead:
                pass
            part = slice(i, i + batch_size)
            values.append(
                twin_share_per_image(
                    maps.pop(), target[part], twin[part], distractor[part], attention=True
                )
            )
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(values)


def _control_label(control: Mapping[str, Tensor]) -> str:
    """The control's name from its values' shape: (N,), one draw of random query/key
    (:data:`MAP_CONTROL`); (D, N), D draws matched to the trained logit scale."""
    values = torch.as_tensor(control["query_tv"])
    if values.dim() == 2:
        return drawn(MATCHED_QUERY_KEY, values.shape[0])
    if values.dim() != 1:
        raise ValueError(
            f"control values must be per image (N,) or per draw and image (D, N); got shape "
            f"{tuple(values.shape)}."
        )
    return MAP_CONTROL


def _map_words(tv: Evidence, far: Evidence, where: str) -> str:
    pair = lambda e: f"{e.trained:.3f} against {e.control:.3f}"  # noqa: E731
    label = tv.control_label
    tv_text = {
        True: f"more query-specific than {label} make them (TV {pair(tv)}): training "
        "made different queries look at different places",
        False: f"less query-specific than {label} make them (TV {pair(tv)}): training "
        "made the maps of different queries more alike",
        None: f"as query-specific as {label} make them (TV {pair(tv)}): the features, "
        "not the training, make the maps differ",
    }[tv.holds]
    far_text = {
        True: f"reach farther than with {label} (far mass {pair(far)})",
        False: f"stay nearer the query than with {label} (far mass {pair(far)})",
        None: f"reach as far as with {label} (far mass {pair(far)})",
    }[far.holds]
    return f"At {where} the trained maps are {tv_text}; they {far_text}."


def _map_evidence(statistic: str, trained: Tensor, control: Tensor, label: str) -> Evidence:
    """Per-image values of the trained block against one draw (N,), paired over the images, or
    against D draws (D, N), banded over the images and the draws together."""
    if torch.as_tensor(control).dim() == 2:
        return Evidence.over_draws(
            statistic, trained, control, label, units="test images", fmt=".3f"
        )
    return Evidence.paired(statistic, trained, control, label, fmt=".3f")


def maps_evidence(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    *,
    where: str,
    control_label: str | None = None,
) -> tuple[Evidence, Evidence]:
    """Query dependence and reach of position-attention maps at ``where``: per-image
    :func:`map_stats_per_image` of the trained block against the same images through its
    control, the paper's direction above the control for both. ``control`` holds per-image
    values (N,) of one network (e.g. :func:`~attncv.train.controls.random_projections`: a
    paired 95% bootstrap band over the images) or (D, N) values of D draws
    (:func:`map_stats_over_draws` of :func:`~attncv.train.controls.matched_query_key`: a 95%
    bootstrap over the images and the draws, :meth:`~.evidence.Evidence.over_draws`).
    ``control_label``: default :data:`MAP_CONTROL` for one draw, ``drawn(MATCHED_QUERY_KEY,
    D)`` for D draws."""
    label = control_label or _control_label(control)
    return (
        _map_evidence(
            f"query dependence (TV between two queries' maps), {where}",
            trained["query_tv"],
            control["query_tv"],
            label,
        ),
        _map_evidence(
            f"far mass / a distance-blind map's, {where}",
            trained["far_ratio"],
            control["far_ratio"],
            label,
        ),
    )


def _maps_verdict(
    trained: Mapping[str, Tensor],
    control: Mapping[str, Tensor],
    where: str,
    paper: str,
    control_label: str | None = None,
) -> Verdict:
    tv, far = maps_evidence(trained, control, where=where, control_label=control_label)
    words = _map_words(tv, far, where)
    return Verdict(
        paper=paper,
        run=f"at {where}, two queries' maps differ by a total variation of {tv.trained:.2f} "
        f"(0: one map for every query); the mass far from the query is {far.trained:.2f}x "
        f"what a distance-blind map puts there (near 0: a local map). With {tv.control_label}: "
        f"{tv.control:.2f} and {far.control:.2f}.",
        evidence=(tv, far),
        words={True: words, False: words, None: words},
    )
