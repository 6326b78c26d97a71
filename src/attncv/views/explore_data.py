"""What the book's explorers show, computed from a network: its attention maps and gates on a
dozen test images, as arrays ready to be packed (:mod:`attncv.views.explore` packs and draws them).

- :func:`explorer_images`: a dozen test images, one per class first, with their class names;
- :func:`query_views`: each query-based block's maps, (n, L, S) with L and S on square grids:
  self-attention, the non-local block and DANet's position attention (Zhang et al. 2019;
  Wang et al. 2018; Fu et al. 2019: row ``i`` of the softmax is query ``i``'s weights over the
  keys), and CCNet's criss-cross weights after one pass and after two (Huang et al. 2019,
  Sec. 3.3: two passes reach every position; here the second pass's weights composed with the
  first's, ``A2 @ A1``, where a pixel's weights come from after both);
- :func:`gate_views`: each gate per image, as bars over channels (SE, CBAM's channel gate) or as
  a map over positions (CBAM's spatial gate; coordinate attention's ``a_h a_w`` and residual
  attention's soft mask, both averaged over the channels);
- :func:`class_means`: the bars' mean per class over the whole test split (SE's gate per class).

A view is a :class:`View`: a name, a type (``"query"``, ``"bars"`` or ``"map"``) and one array
per network. Nothing here trains; the control network comes from :mod:`attncv.train.controls`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..attention.tap import AttentionMap
from ..data import CifarData
from .probe import block_of

EXPLORER_IMAGES = 12  # "a dozen test images" (issue 29)


@dataclass
class View:
    """One thing an explorer can show for every image: ``arrays`` holds one float array per
    network, (n, L, S) maps for ``"query"`` (L queries on ``grid``, S keys on ``keys``),
    (n, C) gates for ``"bars"``, (n, H, W) gates for ``"map"``."""

    name: str
    type: str
    arrays: list[Tensor] = field(default_factory=list)
    grid: tuple[int, int] = (0, 0)
    keys: tuple[int, int] = (0, 0)


def explorer_images(data: CifarData, count: int = EXPLORER_IMAGES) -> tuple[Tensor, list[str]]:
    """``count`` test images, uint8 (count, 3, H, W): the first of each class in class order,
    then the next of each, and so on (so a dozen spans twelve classes where there are twelve),
    with their class names."""
    images, labels = data.split("test")
    if count < 1 or count > len(labels):
        raise ValueError(
            f"explorer_images: count must be between 1 and the {len(labels)} test images, "
            f"got {count}."
        )
    labels = labels.cpu()
    rank = torch.zeros_like(labels)
    for k in labels.unique():
        where = torch.nonzero(labels == k)[:, 0]
        rank[where] = torch.arange(len(where))  # the image's place within its class
    order = sorted(range(len(labels)), key=lambda i: (rank[i].item(), labels[i].item()))[:count]
    idx = torch.tensor(order)
    return images[idx.to(images.device)], [data.classes[labels[i]] for i in order]


def _square(n: int, what: str) -> tuple[int, int]:
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"explorer: {what} has {n} positions, not a square grid.")
    return side, side


@contextmanager
def _calls(model: nn.Module, kinds: Sequence[str]):
    """Every output of every tap of ``kinds``, per call in order: ``{tap name: [tensor, ...]}``
    (CCNet's tap fires once per pass)."""
    seen: dict[str, list[Tensor]] = {}
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, AttentionMap) and m.kind in kinds:
            seen[name] = []

            def record(_m, _i, out: Tensor, name: str = name) -> None:
                seen[name].append(out.detach().float().cpu())

            handles.append(m.register_forward_hook(record))
    if not handles:
        raise ValueError(
            f"explorer: {type(model).__name__} has no attention tap of kind {' or '.join(kinds)}; "
            "pass the trained network of a chapter whose attention has one."
        )
    try:
        yield seen
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def _run(model: nn.Module, data: CifarData, images: Tensor, kinds: Sequence[str]) -> dict:
    """The taps' outputs for uint8 ``images``, in one batch, the model in eval mode."""
    was_training = model.training
    model.eval()
    try:
        with _calls(model, kinds) as seen:
            model(data.normalize(images.to(data.device)))
    finally:
        model.train(was_training)
    return seen


def _dense_cross(weights: Tensor) -> Tensor:
    """CCNet's (n, H, W, H + W) weights as dense (n, HW, HW) maps: the column part on the
    query's column, the row part on its row (attention/ccnet.py's layout)."""
    n, h, w, _ = weights.shape
    dense = torch.zeros(n, h, w, h, w)
    rows, cols = torch.arange(h), torch.arange(w)
    for y in range(h):
        for x in range(w):
            dense[:, y, x, rows, x] += weights[:, y, x, :h]  # (n, H) on column x
            dense[:, y, x, y, cols] += weights[:, y, x, h:]  # (n, W) on row y
    return dense.view(n, h * w, h * w)


def _query_arrays(seen: dict[str, list[Tensor]]) -> dict[str, Tensor]:
    """``{view name: (n, L, S)}`` from the taps' calls; CCNet's two calls per block become
    ``"<block> pass 1"`` and ``"<block> two passes"``."""
    out: dict[str, Tensor] = {}
    for tap, calls in seen.items():
        block = block_of(tap)
        if calls and calls[0].dim() == 4:  # CCNet: one call per pass
            first = _dense_cross(calls[0])
            out[f"{block} pass 1"] = first
            if len(calls) > 1:
                out[f"{block} two passes"] = _dense_cross(calls[1]) @ first  # (n, L, L)
        elif calls:
            out[block] = torch.cat(calls)
    return out


def _same_views(per_net: Sequence[dict], caller: str) -> list[str]:
    """The views of the first network, after checking every other network offers them too."""
    names = list(per_net[0])
    for other in per_net[1:]:
        if set(other) != set(names):
            raise ValueError(
                f"{caller}: the control's views {sorted(other)} are not the trained network's "
                f"{sorted(names)}: pass a control built from the trained network (the same "
                "attention, blocks and width)."
            )
    return names


def query_views(
    networks: Sequence[nn.Module],
    data: CifarData,
    images: Tensor,
    *,
    blocks: Sequence[str] | None = None,
) -> list[View]:
    """The query maps of every query-based block (or only ``blocks``, by view name, e.g.
    ``"layer2.1"``, ``"layer3.0.position_tap"``, ``"layer2.0 two passes"``) of each network
    (the trained one first, then its control) on uint8 ``images``."""
    per_net = [_query_arrays(_run(net, data, images, ("position",))) for net in networks]
    names = _same_views(per_net, "query_views")
    if blocks is not None:
        if missing := [b for b in blocks if b not in names]:
            raise ValueError(f"query_views: no view {missing}; the network has {names}.")
        names = list(blocks)
    views = []
    for name in names:
        arrays = [p[name] for p in per_net]
        views.append(
            View(
                name,
                "query",
                arrays,
                grid=_square(arrays[0].shape[1], f"{name}'s queries"),
                keys=_square(arrays[0].shape[2], f"{name}'s keys"),
            )
        )
    return views


def _gate_arrays(seen: dict[str, list[Tensor]]) -> dict[str, tuple[str, Tensor]]:
    """``{view name: (type, array)}`` from the gate taps' calls."""
    out: dict[str, tuple[str, Tensor]] = {}
    for tap, calls in seen.items():
        if not calls:
            continue
        g = torch.cat(calls)
        block = block_of(tap)
        if tap.endswith("tap_w"):
            continue  # read with its tap_h below
        if tap.endswith("tap_h"):  # coordinate attention: a_h (n, C, H, 1), a_w (n, C, 1, W)
            a_w = torch.cat(seen[tap[: -len("tap_h")] + "tap_w"])
            gate = (g * a_w).mean(1)  # (n, H, W): a_h a_w, averaged over the channels
            out[block.removesuffix(".tap_h") + " gate (channel mean)"] = ("map", gate)
        elif g.shape[-2:] == (1, 1):  # a channel gate (n, C, 1, 1)
            out[block] = ("bars", g.flatten(1))
        elif g.shape[1] == 1:  # a spatial gate (n, 1, H, W)
            out[block] = ("map", g[:, 0])
        else:  # a mask (n, C, H, W)
            out[f"{block} (channel mean)"] = ("map", g.mean(1))
    return out


GATE_KINDS = ("channel", "spatial", "mask")


def gate_views(
    networks: Sequence[nn.Module],
    data: CifarData,
    images: Tensor,
    *,
    blocks: Sequence[str] | None = None,
) -> list[View]:
    """The gates of every block (or only ``blocks``, by view name) of each network on uint8
    ``images``: bars over channels or maps over positions, in (0, 1)."""
    per_net = [_gate_arrays(_run(net, data, images, GATE_KINDS)) for net in networks]
    names = _same_views(per_net, "gate_views")
    if blocks is not None:
        if missing := [b for b in blocks if b not in names]:
            raise ValueError(f"gate_views: no view {missing}; the network has {names}.")
        names = list(blocks)
    views = []
    for name in names:
        kind = per_net[0][name][0]
        arrays = [p[name][1] for p in per_net]
        grid = tuple(arrays[0].shape[1:]) if kind == "map" else (1, arrays[0].shape[1])
        views.append(View(name, kind, arrays, grid=grid, keys=grid))
    return views


@torch.no_grad()
def class_means(
    network: nn.Module, data: CifarData, names: Sequence[str], *, batch: int = 500
) -> dict[str, Tensor]:
    """Each bars view's (``names``) mean gate per class over the test split: ``{name: (K, C)}``
    (a class without test images: zeros)."""
    images, labels = data.split("test")
    labels = labels.cpu()
    sums: dict[str, Tensor] = {}
    for part, lab in zip(images.split(batch), labels.split(batch), strict=True):
        arrays = _gate_arrays(_run(network, data, part, ("channel",)))
        for name in names:
            g = arrays[name][1]  # (b, C)
            sums.setdefault(name, torch.zeros(data.num_classes, g.shape[1]))
            sums[name].index_add_(0, lab, g)
    counts = torch.bincount(labels, minlength=data.num_classes).clamp(min=1)[:, None]
    return {name: s / counts for name, s in sums.items()}
