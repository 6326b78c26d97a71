"""The tap every attention module routes its weights through, so they can be looked at.

An :class:`AttentionMap` is an identity layer with a name and a kind. Modules pass their attention
weights through one (``gate = self.tap(torch.sigmoid(z))``); :func:`attncv.probe.capture` catches
them with forward hooks. Nothing is stored on the module, so an unobserved tap costs nothing.
"""

from __future__ import annotations

from torch import Tensor, nn

KINDS = ("channel", "spatial", "position", "branch", "affine", "mask")


class AttentionMap(nn.Module):
    """Identity layer marking a tensor of attention weights.

    Args:
        kind: what the weights are over: ``"channel"`` (N, C, 1, 1), ``"spatial"`` (N, 1, H, W),
            ``"position"`` (N, HW, HW) affinities between positions, ``"branch"`` (N, K, C)
            weights over branches, ``"affine"`` (N, 2, 3) transforms, ``"mask"`` (N, C, H, W)
            soft masks.

    Shape:
        Input and output: the same tensor, unchanged.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"AttentionMap kind must be one of {KINDS}, got {kind!r}.")
        self.kind = kind

    def forward(self, weights: Tensor) -> Tensor:
        return weights

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
