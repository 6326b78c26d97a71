"""Masks over channels and positions: how much of a mask M[c, h, w] depends on position.

:func:`variance_parts`, an unbiased two-way decomposition of a mask into a channel part, a
position part and their interaction; :func:`position_dependent`, the position-dependent share
per image; and :func:`parts_table`.
Residual attention's soft masks and coordinate attention's gates are read this way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import Tensor

from .tables import Table


def variance_parts(mask: Tensor, *, per_image: bool = False) -> dict[str, float | Tensor]:
    """Two-way decomposition of masks M[n, c, h, w] per image: M = m + a_c + b_hw + e_chw, with
    a_c the channel means less the grand mean, b_hw the position means less it, e the rest.
    The three sums of squares add up to the image's total; each image's three shares of it,
    ``{"channel": ..., "position": ..., "interaction": ...}``, as (N,) tensors
    (``per_image``) or averaged over the images (an image with a constant mask is left out). A
    pure channel gate gives channel 1, a map shared by every channel position 1."""
    m = mask.double().flatten(2)  # (N, C, HW)
    grand = m.mean(dim=(1, 2), keepdim=True)  # (N, 1, 1)
    a = m.mean(dim=2, keepdim=True) - grand  # (N, C, 1)
    b = m.mean(dim=1, keepdim=True) - grand  # (N, 1, HW)
    e = m - grand - a - b  # (N, C, HW)
    ss = {
        "channel": a.square().sum(dim=(1, 2)) * m.shape[2],
        "position": b.square().sum(dim=(1, 2)) * m.shape[1],
        "interaction": e.square().sum(dim=(1, 2)),
    }  # (N,) each
    total = sum(ss.values())
    shares = {k: v / total for k, v in ss.items()}  # NaN where an image's mask is constant
    if per_image:
        return shares
    return {k: v.nanmean().item() for k, v in shares.items()}


def position_dependent(masks: Mapping[str, Tensor] | Iterable[Tensor]) -> Tensor:
    """Per image, the position-dependent share of the mask's variance (position + interaction
    in :func:`variance_parts`), averaged over the blocks (``{block: (N, C, H, W)}``, or the masks
    one at a time, e.g. from a generator, to keep one block's masks in memory at a time): (N,)."""
    shares = []
    for m in masks.values() if isinstance(masks, Mapping) else masks:
        p = variance_parts(m, per_image=True)
        shares.append(p["position"] + p["interaction"])
    return torch.stack(shares).mean(0)


def parts_table(parts: Mapping[str, Mapping[str, float]]) -> Table:
    """:func:`variance_parts` per block as a table of percentages."""
    return Table(
        ["block", "channel", "position", "inter.", "pos.-dep."],
        [
            [
                b,
                f"{p['channel']:.0%}",
                f"{p['position']:.0%}",
                f"{p['interaction']:.0%}",
                f"{p['position'] + p['interaction']:.0%}",
            ]
            for b, p in parts.items()
        ],
        caption="Shares of each mask's variance over channels and positions, per image, "
        "averaged over the test images; inter.: interaction; pos.-dep.: position-dependent, "
        "position + interaction.",
    )
