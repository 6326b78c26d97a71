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

import torch
from torch import Tensor, nn

from ..data import CifarData
from .probe import tap_weights
from .verdicts import Evidence, Verdict

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


def object_verdict(
    trained: Tensor,
    control: Tensor,
    *,
    where: str,
    paper: str,
    control_label: str,
    subject: str = "The trained block",
) -> Verdict:
    """Per-canvas weight on the object (:func:`object_mass_per_image` or
    :func:`gate_on_object_per_image`) of the trained network against ``control`` on the same
    canvases, with a paired 95% bootstrap band. The paper's direction: above the control (the
    module learned to weigh the object)."""
    ev = Evidence.paired(
        f"weight on the object / an object-blind map's, {where} (canvases)",
        trained,
        control,
        control_label,
        units="test canvases",
        fmt=".3f",
    )
    pair = f"{ev.trained:.2f}x against {ev.control:.2f}x"
    return Verdict(
        paper=paper,
        run=f"at {where}, on canvases with the object at a known place: {ev.trained:.2f}x the "
        f"weight an object-blind map puts on the object's box; {control_label}: "
        f"{ev.control:.2f}x.",
        evidence=(ev,),
        words={
            True: f"{subject} weighs the object more than its control does ({control_label}; "
            f"{pair} an object-blind map): where to look was learned.",
            None: f"{subject} weighs the object as much as its control does ({control_label}; "
            f"{pair} an object-blind map): training added no preference for the object beyond "
            "what the control already shows.",
            False: f"{subject} weighs the object less than its control does ({control_label}; "
            f"{pair} an object-blind map): training moved the weight away from the object.",
        },
    )


def tap_at(maps: Mapping[str, Tensor], block: str) -> Tensor:
    """``maps[block]``, or a clear error naming the blocks there are."""
    if block not in maps:
        raise ValueError(f"no tap at {block!r} on the canvases; taps: {sorted(maps)}.")
    return maps[block]
