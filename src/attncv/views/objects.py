"""Where attention goes, measured where the answer is known: an object at a known place.

CIFAR's objects fill and centre their images, so a map or gate on CIFAR cannot say whether a
module looks *at the object*. The spatial transformer's canvases can: every image is shrunk to
16-24 pixels and put at a random place on a black 64x64 canvas
(:func:`attncv.data.distorted.on_canvas`), and the object's box is known. One experiment for
every chapter whose paper makes a claim about *where*:

- :func:`attncv.train.canvas.canvas_task` builds the canvases;
  :func:`attncv.train.canvas.train_on_canvas` trains ResNet-18 with the module behind a
  downscale of the canvas to 32x32 (:class:`attncv.model.Downscale`: the object then covers
  8-12 pixels), with the profile's recipe (``canvas_epochs`` on a CPU);
- the statistic is the weight on the object's box divided by the box's share of the canvas,
  per test canvas (1: blind to the object): :func:`object_mass_per_image` for position-attention
  maps (the queries on the object), :func:`gate_on_object_per_image` for gates and masks;
- the control is the same statistic on the same canvases for what training did not shape:
  random query/key weights on the trained features for maps
  (:func:`~attncv.train.controls.random_projections`), the network before training for gates
  (:func:`~attncv.train.canvas.untrained_on_canvas`, its BN statistics measured on canvases),
  with a paired 95% bootstrap band over the canvases (:func:`object_verdict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..data import CifarData
from ..data.cluttered import as_placements
from .probe import tap_weights

CANVASES = 500  # test canvases every statistic is measured on


def canvas_taps(
    model: nn.Module, canvas: CifarData, kind: str, *, images: int = CANVASES
) -> dict[str, Tensor]:
    """The weights at every tap of ``kind`` on the first ``images`` test canvases, named by
    block as in the chapters (``"layer2.1.spatial_tap"``: the downscale's ``1.`` dropped)."""
    maps = tap_weights(model, canvas, canvas.split("test")[0][:images], kind)
    return {name.removeprefix("1."): m for name, m in maps.items()}


def box_mask(placements: Tensor, grid: tuple[int, int]) -> Tensor:
    """(N, h w): 1 where a cell of a ``grid`` over the canvas has its centre inside the image's
    object box. ``placements`` (N, 3): the object's centre x, y (normalised, -1 to 1) and side
    (a fraction of the canvas, so half the side in normalised units), as
    :func:`~attncv.train.canvas.canvas_task` returns them."""
    h, w = grid
    ys = (torch.arange(h, dtype=torch.float64) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float64) + 0.5) / w * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (h, w)
    p = placements.detach().cpu().double()
    cx, cy, half = p[:, 0, None, None], p[:, 1, None, None], p[:, 2, None, None]  # half side
    inside = ((gx - cx).abs() <= half) & ((gy - cy).abs() <= half)  # (N, h, w)
    return inside.flatten(1).float()


def object_mass_per_image(
    weights: Tensor, placements: Tensor, grid: tuple[int, int] | None = None
) -> Tensor:
    """Per image (N,): how much the queries on the object attend to the object. The mean, over
    the query cells inside the object's box, of the attention mass on key cells inside it,
    divided by the box's share of the keys (what a map blind to the object puts there): 1 for
    a map that ignores the object, above 1 for one that looks at it. ``weights`` (N, L, L) on
    a ``grid`` over the whole canvas (queries and keys on the same grid; default square)."""
    if grid is None:
        side = round(weights.shape[-1] ** 0.5)
        grid = (side, side)
    mask = box_mask(placements, grid)  # (N, L)
    if weights.shape[:2] != mask.shape or weights.shape[2] != mask.shape[1]:
        raise ValueError(f"weights {tuple(weights.shape)} do not fit the grid {grid}.")
    w = weights.detach().cpu().double()
    on = (w * mask[:, None, :]).sum(-1)  # (N, L): each query's mass on the object
    queries = mask.sum(-1).clamp_min(1)  # (N,)
    mass = (on * mask).sum(-1) / queries  # mean over the queries on the object
    share = mask.mean(-1).clamp_min(1 / mask.shape[1])
    return mass / share


def gate_on_object_per_image(gates: Tensor, placements: Tensor) -> Tensor:
    """Per image (N,): a gate's or mask's weight on the object. ``gates`` (N, ..., h, w),
    positive (a sigmoid's output), over the whole canvas; any middle dimensions (channels) are
    averaged first. The mean over the cells inside the object's box divided by the mean over
    all cells, i.e. the share of the gate's total on the box over the box's share of the cells:
    1 for a gate blind to the object, above 1 for one that favours it."""
    if gates.dim() < 3:
        raise ValueError(f"gates must be (N, ..., h, w); got shape {tuple(gates.shape)}.")
    g = gates.detach().cpu().double()
    if g.dim() > 3:
        g = g.flatten(1, -3).mean(1)  # (N, h, w): the middle dimensions averaged
    mask = box_mask(placements, (g.shape[1], g.shape[2]))  # (N, h w)
    flat = g.flatten(1)
    inside = (flat * mask).sum(-1) / mask.sum(-1).clamp_min(1)
    return inside / flat.mean(-1).clamp_min(1e-12)


def tap_at(maps: Mapping[str, Tensor], block: str) -> Tensor:
    """``maps[block]``, or a clear error naming the blocks there are."""
    if block not in maps:
        raise ValueError(f"no tap at {block!r} on the canvases; taps: {sorted(maps)}.")
    return maps[block]


# -- Cluttered canvases: the target against distractors as contrasty as itself ----------------
#
# On the black canvases above, a map that merely follows contrast (or feature norm) scores 7-10x
# on the object: the object is the only thing there. On the cluttered canvases
# (:func:`attncv.data.cluttered.on_cluttered_canvas`) the target sits among distractors of the
# same side and contrast, and the statistic compares the two, so contrast alone gives 1;
# :func:`validate_statistic` shows it on every set of canvases (a negative and a positive
# control). Boxes are in canvas pixels, ``(x0, y0, x1, y1)``, ``x1`` exclusive.

CANVAS = 64  # pixels: the side of the canvases the boxes are given on
NULL_BAND = (0.8, 1.25)  # where a control blind to the target must land (mean over canvases)
POSITIVE_FLOOR = 3.0  # what a map placed on the target by hand must exceed


def box_cover(boxes: Tensor, grid: tuple[int, int], canvas: int = CANVAS) -> Tensor:
    """(..., h, w), float64: how many of a pixel box's pixels fall in each cell of a ``grid`` over
    a ``canvas`` x ``canvas`` canvas (cells may be fractions of pixels). ``boxes`` (..., 4):
    ``(x0, y0, x1, y1)`` in canvas pixels, ``x1`` exclusive. A map's mean weight per pixel on the
    box (the map read as constant over each cell) is ``(map * cover).sum() / cover.sum()``."""
    b = boxes.detach().cpu().double()
    h, w = grid
    ex = torch.linspace(0, canvas, w + 1, dtype=torch.float64)  # cell edges, pixels
    ey = torch.linspace(0, canvas, h + 1, dtype=torch.float64)
    ox = (torch.minimum(b[..., 2:3], ex[1:]) - torch.maximum(b[..., 0:1], ex[:-1])).clamp_min(0)
    oy = (torch.minimum(b[..., 3:4], ey[1:]) - torch.maximum(b[..., 1:2], ey[:-1])).clamp_min(0)
    return oy[..., :, None] * ox[..., None, :]  # (..., h, w)


def seen_from_target(attention: Tensor, target_boxes: Tensor, canvas: int = CANVAS) -> Tensor:
    """(N, side, side): what the queries on the target attend to. ``attention`` (N, L, L),
    queries x keys on one square grid over the canvas (L = side * side); the mean of the query
    rows, each weighted by the target's pixels in its cell, put back on the grid."""
    n, q, k = attention.shape if attention.dim() == 3 else (0, 0, -1)
    side = round(max(k, 0) ** 0.5)
    if q != k or side * side != k or len(target_boxes) != n:
        raise ValueError(
            f"attention {tuple(attention.shape)} is not (N, L, L) on a square grid for "
            f"{len(target_boxes)} target boxes."
        )
    weight = box_cover(target_boxes, (side, side), canvas).flatten(1)  # (N, L) queries
    a = attention.detach().cpu().double()
    rows = (weight[:, :, None] * a).sum(1) / weight.sum(1, keepdim=True).clamp_min(1e-12)
    return rows.view(n, side, side)


def _canvas_map(weights: Tensor, target_boxes: Tensor, canvas: int, attention: bool) -> Tensor:
    """(N, h, w) float64: the map that :func:`target_over_distractors_per_image` reads."""
    if attention:
        return seen_from_target(weights, target_boxes, canvas)
    if weights.dim() not in (3, 4) or len(weights) != len(target_boxes):
        raise ValueError(
            f"weights must be (N, h, w) or (N, C, h, w) for {len(target_boxes)} canvases; got "
            f"shape {tuple(weights.shape)} (an attention map (N, L, L): attention=True)."
        )
    w = weights.detach().cpu().double()
    return w.mean(1) if w.dim() == 4 else w


def _mean_on(m: Tensor, boxes: Tensor, canvas: int) -> Tensor:
    """(N,): the mean weight per pixel of maps ``m`` (N, h, w) over boxes (N, 4) or over the
    pixels of several disjoint boxes (N, k, 4) together."""
    cover = box_cover(boxes, (m.shape[1], m.shape[2]), canvas)
    if cover.dim() == 4:
        cover = cover.sum(1)  # (N, h, w): the boxes do not overlap
    return (m * cover).sum((1, 2)) / cover.sum((1, 2)).clamp_min(1e-12)


def target_over_distractors_per_image(
    weights: Tensor,
    target_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    canvas: int = CANVAS,
    attention: bool = False,
) -> Tensor:
    """Per cluttered canvas (N,): the mean weight per pixel on the target's box over the mean
    weight per pixel on the distractors' boxes (their pixels pooled). 1: no preference for the
    target over things as large and contrasty as it (a uniform map gives exactly 1, one that
    follows contrast about 1); above 1: the map prefers the labelled object.

    ``weights``: a map or gate over the whole canvas, (N, h, w) or (N, C, h, w) (the channels
    averaged), read as constant over each cell; or, with ``attention=True``, a position-attention
    map (N, L, L) (queries x keys on a square grid), read from the queries on the target
    (:func:`seen_from_target`; a map that merely attends near its query also scores above 1
    there: use :func:`twin_over_distractor_per_image` for "similar content"). ``target_boxes``
    (N, 4), ``distractor_boxes`` (N, k, 4) or (N, 4), pixels of a ``canvas``-pixel canvas
    (:func:`attncv.data.cluttered.on_cluttered_canvas`).
    """
    m = _canvas_map(weights, target_boxes, canvas, attention)
    d = distractor_boxes if distractor_boxes.dim() == 3 else distractor_boxes[:, None]
    if len(d) != len(m):
        raise ValueError(f"{len(d)} distractor boxes for {len(m)} canvases.")
    return _mean_on(m, target_boxes, canvas) / _mean_on(m, d, canvas).clamp_min(1e-12)


def twin_over_distractor_per_image(
    weights: Tensor,
    target_boxes: Tensor,
    twin_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    canvas: int = CANVAS,
    attention: bool = False,
) -> Tensor:
    """Per twin canvas (N,): the mean weight per pixel on the target's twin (a copy of it) over
    that on the distractor exactly as far from the target (an image of another class, as large
    and contrasty). 1: no preference for similar content (a uniform map, one that follows
    contrast, and one that only decays with the distance from the target all give about 1);
    above 1: the map finds what looks like the target.

    ``weights`` as in :func:`target_over_distractors_per_image`: with ``attention=True`` a
    position-attention map (N, L, L) read from the queries on the target (the papers' claim:
    SAGAN, non-local, DANet), else a map or gate over the canvas. Boxes (N, 4) each, pixels of
    a ``canvas``-pixel canvas (:func:`attncv.data.cluttered.on_twin_canvas`).
    """
    on_twin, on_distractor = _twin_means(
        weights, target_boxes, twin_boxes, distractor_boxes, canvas, attention
    )
    return on_twin / on_distractor.clamp_min(1e-12)


def _twin_means(
    weights: Tensor,
    target_boxes: Tensor,
    twin_boxes: Tensor,
    distractor_boxes: Tensor,
    canvas: int,
    attention: bool,
) -> tuple[Tensor, Tensor]:
    """(N,) each: the mean weight per pixel on the twin's box and on the distractor's."""
    m = _canvas_map(weights, target_boxes, canvas, attention)
    if not len(twin_boxes) == len(distractor_boxes) == len(m):
        raise ValueError(f"twin and distractor boxes must be one per canvas ({len(m)}).")
    return _mean_on(m, twin_boxes, canvas), _mean_on(m, distractor_boxes, canvas)


def twin_share_per_image(
    weights: Tensor,
    target_boxes: Tensor,
    twin_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    canvas: int = CANVAS,
    attention: bool = False,
) -> Tensor:
    """Per twin canvas (N,): the twin's share of the weight per pixel on the twin and the
    distractor together, ``T / (T + D)``: 0.5 for no preference, 1 for all on the twin. The
    same comparison as :func:`twin_over_distractor_per_image` (``T / D``), bounded: a map that
    puts almost nothing on the distractor cannot make one canvas outweigh all the others (a
    ratio does; a sharp random map gave ratios of 10^7). Arguments as there."""
    on_twin, on_distractor = _twin_means(
        weights, target_boxes, twin_boxes, distractor_boxes, canvas, attention
    )
    return on_twin / (on_twin + on_distractor).clamp_min(1e-12)


def contrast_map(canvases: Tensor, grid: tuple[int, int]) -> Tensor:
    """(N, h, w): the local image contrast, a map that knows nothing but contrast. Per cell of a
    ``grid`` over the canvases (uint8 or float, (N, 3, H, W)), the standard deviation of each
    colour channel's pixels, averaged over the channels (pixels on a 0-1 scale)."""
    x = canvases.detach().cpu().double()
    x = x / 255 if not canvases.is_floating_point() else x
    mean = torch.nn.functional.adaptive_avg_pool2d(x, grid)  # (N, 3, h, w)
    square = torch.nn.functional.adaptive_avg_pool2d(x * x, grid)
    return (square - mean * mean).clamp_min(0).sqrt().mean(1)  # (N, h, w)


def box_map(
    boxes: Tensor, grid: tuple[int, int], canvas: int = CANVAS, *, floor: float = 0.1
) -> Tensor:
    """(N, h, w): a map set by hand on the boxes (N, 4): ``floor`` everywhere plus the share of
    each cell covered by the box (the positive control)."""
    cell = (canvas / grid[0]) * (canvas / grid[1])
    return floor + box_cover(boxes, grid, canvas) / cell


def distance_map(target_boxes: Tensor, grid: tuple[int, int], canvas: int = CANVAS) -> Tensor:
    """(N, h, w): a map that only decays with the distance from the target's centre,
    ``exp(-d / (canvas / 4))``: locality without content (a negative control for the twin)."""
    b = target_boxes.detach().cpu().double()
    h, w = grid
    ys = (torch.arange(h, dtype=torch.float64) + 0.5) * canvas / h
    xs = (torch.arange(w, dtype=torch.float64) + 0.5) * canvas / w
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2  # (N,)
    d = (xs[None, None, :] - cx[:, None, None]) ** 2 + (ys[None, :, None] - cy[:, None, None]) ** 2
    return torch.exp(-d.sqrt() / (canvas / 4))


@dataclass(frozen=True)
class Validation:
    """A statistic on controls whose answer is known, per canvas: ``negatives`` must land near no
    preference (``null``, on the mean; ratios: :data:`NULL_BAND`), ``positive`` far above
    (``floor``; ratios: :data:`POSITIVE_FLOOR`);
    ``reference`` is shown, not checked (the black canvases' statistic on the contrast map)."""

    statistic: str
    negatives: dict[str, Tensor]
    positive: tuple[str, Tensor]
    reference: dict[str, Tensor] = field(default_factory=dict)
    null: tuple[float, float] = NULL_BAND  # where a blind control's mean must land
    floor: float = POSITIVE_FLOOR  # what the hand-set control's mean must exceed
    no_preference: str = "1"  # the statistic's value for no preference, as printed

    def means(self) -> dict[str, float]:
        """The mean over canvases of every control, by name."""
        every = {**self.negatives, self.positive[0]: self.positive[1], **self.reference}
        return {name: float(v.mean()) for name, v in every.items()}

    @property
    def passes(self) -> bool:
        """True when every negative control's mean is in :data:`NULL_BAND` and the positive's
        is above :data:`POSITIVE_FLOOR`."""
        lo, hi = self.null
        blind = all(lo <= float(v.mean()) <= hi for v in self.negatives.values())
        return blind and float(self.positive[1].mean()) > self.floor

    def summary(self) -> str:
        """One line: every control's mean, and whether the statistic tells them apart."""
        m = self.means()
        n = len(self.positive[1])
        x = "x" if self.no_preference == "1" else ""  # ratios read as times, shares as they are
        parts = [f"{name} {m[name]:.2f}{x}" for name in self.negatives]
        text = (
            f"{self.statistic} on {n} canvases: {', '.join(parts)} (no preference: "
            f"{self.no_preference}); {self.positive[0]} {m[self.positive[0]]:.2f}{x}"
        )
        text += "".join(f"; {name} {m[name]:.2f}{x}" for name in self.reference)
        verdict = "tells them apart" if self.passes else "does NOT tell them apart"
        return f"{text}: the statistic {verdict}."

    def __str__(self) -> str:
        return self.summary()


def validate_statistic(
    canvases: Tensor,
    target_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    grid: tuple[int, int] = (8, 8),
) -> Validation:
    """:func:`target_over_distractors_per_image` on the cluttered ``canvases`` (N, 3, S, S) for
    controls on a ``grid``: the local contrast (:func:`contrast_map`) and a uniform map
    (negatives: about 1 and exactly 1), a map set by hand on the target (:func:`box_map`,
    positive: far above 1); for reference, :func:`gate_on_object_per_image`, the black
    canvases' statistic, of the same contrast map (above 1: it rewards contrast)."""
    size = canvases.shape[-1]
    n = len(canvases)
    contrast = contrast_map(canvases, grid)

    def stat(m: Tensor) -> Tensor:
        return target_over_distractors_per_image(m, target_boxes, distractor_boxes, canvas=size)

    old = gate_on_object_per_image(contrast, as_placements(target_boxes, size))
    return Validation(
        "target over distractors",
        {"contrast only": stat(contrast), "uniform": stat(torch.ones(n, *grid))},
        ("hand-set on the target", stat(box_map(target_boxes, grid, size))),
        {"contrast only, black canvases' statistic": old},
    )


def _twin_controls(
    canvases: Tensor, target_boxes: Tensor, twin_boxes: Tensor, grid: tuple[int, int]
) -> tuple[dict[str, Tensor], Tensor]:
    """The maps whose answer is known on twin canvases: the negatives (local contrast, uniform,
    distance from the target only) and the positive (set by hand on the twin)."""
    size = canvases.shape[-1]
    negatives = {
        "contrast only": contrast_map(canvases, grid),
        "uniform": torch.ones(len(canvases), *grid),
        "distance only": distance_map(target_boxes, grid, size),
    }
    return negatives, box_map(twin_boxes, grid, size)


def validate_twin_statistic(
    canvases: Tensor,
    target_boxes: Tensor,
    twin_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    grid: tuple[int, int] = (8, 8),
) -> Validation:
    """:func:`twin_over_distractor_per_image` on the twin ``canvases`` for controls on a
    ``grid``: the local contrast, a uniform map and one that only decays with the distance from
    the target (:func:`distance_map`) (negatives: about 1), a map set by hand on the twin
    (positive: far above 1)."""
    size = canvases.shape[-1]
    negatives, positive = _twin_controls(canvases, target_boxes, twin_boxes, grid)

    def stat(m: Tensor) -> Tensor:
        return twin_over_distractor_per_image(
            m, target_boxes, twin_boxes, distractor_boxes, canvas=size
        )

    return Validation(
        "twin over distractor",
        {name: stat(m) for name, m in negatives.items()},
        ("hand-set on the twin", stat(positive)),
    )


SHARE_NULL_BAND = (0.45, 0.55)  # a twin share blind to the twin: about 0.5
SHARE_FLOOR = 0.75  # a twin share set by hand on the twin: far above 0.5


def validate_twin_share(
    canvases: Tensor,
    target_boxes: Tensor,
    twin_boxes: Tensor,
    distractor_boxes: Tensor,
    *,
    grid: tuple[int, int] = (8, 8),
) -> Validation:
    """:func:`twin_share_per_image` on the twin ``canvases`` for the controls of
    :func:`validate_twin_statistic`: the local contrast, a uniform map and one that only decays
    with the distance from the target (negatives: about 0.5), a map set by hand on the twin
    (positive: far above 0.5)."""
    size = canvases.shape[-1]
    negatives, positive = _twin_controls(canvases, target_boxes, twin_boxes, grid)

    def stat(m: Tensor) -> Tensor:
        return twin_share_per_image(m, target_boxes, twin_boxes, distractor_boxes, canvas=size)

    return Validation(
        "the twin's share of the weight on twin and distractor",
        {name: stat(m) for name, m in negatives.items()},
        ("hand-set on the twin", stat(positive)),
        null=SHARE_NULL_BAND,
        floor=SHARE_FLOOR,
        no_preference="0.5",
    )
