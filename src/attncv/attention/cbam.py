"""Convolutional Block Attention Module (CBAM).

Paper: Sanghyun Woo, Jongchan Park, Joon-Young Lee, In So Kweon. *CBAM: Convolutional Block
Attention Module*. ECCV 2018. https://arxiv.org/abs/1807.06521

Idea: first *what* (a channel gate from the average- and max-pooled descriptors through one shared
MLP), then *where* (a spatial gate from the channel-wise average and max maps through a 7x7
convolution); each gate is a sigmoid that rescales the features, applied in that order.

Deviations from the paper:
- The spatial gate is ``sigmoid(BN(conv(...)))``: the one-channel BatchNorm after the 7x7
  convolution (which has no bias) comes from the authors' released code; the paper's Eq. 3 writes
  ``sigmoid(conv(...))``. As in that code, the MLP layers carry biases.
- The hidden width is ``channels // reduction`` exactly.

``channel``, ``spatial``, ``pool_types``, ``kernel_size`` and ``order`` repeat the paper's own
ablations (Tables 1-3); the defaults are the paper's CBAM. ``order="parallel"`` follows Sec. 4.1:
both gates read the same input, and their outputs (before the sigmoid) are added and normalised
by one sigmoid, a joint (N, C, H, W) gate.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .tap import AttentionMap

POOLS = ("avg", "max")
ORDERS = ("channel_first", "spatial_first", "parallel")


def _pool(x: Tensor, kind: str, dims: tuple[int, ...]) -> Tensor:
    return x.mean(dim=dims, keepdim=True) if kind == "avg" else x.amax(dim=dims, keepdim=True)


class CBAM(nn.Module):
    """Channel attention followed by spatial attention.

    Args:
        channels: number of input channels C.
        reduction: reduction ratio r of the shared MLP (paper: 16).
        kernel_size: size k of the spatial convolution (paper: 7).
        channel: use the channel gate (ablation switch).
        spatial: use the spatial gate (ablation switch).
        pool_types: descriptors fed to both gates, a non-empty subset of ``("avg", "max")``.
        order: how the gates combine (paper's Table 3): ``"channel_first"`` (the paper's CBAM),
            ``"spatial_first"``, or ``"parallel"`` (one sigmoid of the summed gate logits).

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The channel gate (N, C, 1, 1) passes through
        ``self.channel_tap``, the spatial gate (N, 1, H, W) through ``self.spatial_tap``; with
        ``order="parallel"`` the joint gate (N, C, H, W) passes through ``self.tap`` instead.

    Parameters: channel gate 2 C^2 / r + C / r + C; spatial gate P k^2 + 2 (P pooled maps, BN).
    """

    def __init__(
        self,
        channels: int,
        *,
        reduction: int = 16,
        kernel_size: int = 7,
        channel: bool = True,
        spatial: bool = True,
        pool_types: Sequence[str] = POOLS,
        order: str = "channel_first",
    ) -> None:
        super().__init__()
        check_channels("CBAM", channels)
        pools = tuple(pool_types)
        if not pools or len(set(pools)) != len(pools) or not set(pools) <= set(POOLS):
            raise ValueError(
                f"CBAM: pool_types must be distinct names from {POOLS}, got {pools!r}."
            )
        if not (channel or spatial):
            raise ValueError("CBAM: at least one of channel= and spatial= must be True.")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"CBAM: kernel_size must be odd and positive, got {kernel_size}.")
        if order not in ORDERS or (order != "channel_first" and not (channel and spatial)):
            raise ValueError(
                f"CBAM: order must be one of {ORDERS} (with both gates), got {order!r}."
            )
        self.channels, self.pools, self.order = channels, pools, order
        self.mlp: nn.Module | None = None
        self.conv: nn.Module | None = None
        if channel:
            hidden = reduced("CBAM", channels, reduction)
            self.mlp = nn.Sequential(  # shared by all descriptors: C -> C/r -> C
                nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels)
            )
        if spatial:
            self.conv = nn.Sequential(
                nn.Conv2d(len(pools), 1, kernel_size, padding=kernel_size // 2, bias=False),
                nn.BatchNorm2d(1),
            )
        self.channel_tap = AttentionMap("channel")
        self.spatial_tap = AttentionMap("spatial")
        if order == "parallel":
            self.tap = AttentionMap("mask")

    def channel_logits(self, x: Tensor) -> Tensor:
        """Sum over pools of MLP(pool(x)), before the sigmoid: (N, C, 1, 1)."""
        n, c = x.shape[:2]
        desc = torch.cat([_pool(x, p, (2, 3)).flatten(1) for p in self.pools])  # (P*N, C)
        return self.mlp(desc).view(len(self.pools), n, c).sum(0).view(n, c, 1, 1)  # one call

    def spatial_logits(self, x: Tensor) -> Tensor:
        """BN(conv_k([pool_c(x)])), before the sigmoid: (N, 1, H, W)."""
        maps = torch.cat([_pool(x, p, (1,)) for p in self.pools], dim=1)  # (N, P, H, W)
        return self.conv(maps)  # (N, 1, H, W)

    def channel_gate(self, x: Tensor) -> Tensor:
        """M_c(x) = sigmoid(sum over pools of MLP(pool(x))): (N, C, 1, 1)."""
        return self.channel_tap(torch.sigmoid(self.channel_logits(x)))  # (N, C, 1, 1)

    def spatial_gate(self, x: Tensor) -> Tensor:
        """M_s(x) = sigmoid(BN(conv_k([pool_c(x)]))): (N, 1, H, W)."""
        return self.spatial_tap(torch.sigmoid(self.spatial_logits(x)))  # (N, 1, H, W)

    def forward(self, x: Tensor) -> Tensor:
        check_input("CBAM", x, self.channels)
        if self.order == "parallel":  # M = sigmoid(z_c + z_s), broadcast: (N, C, H, W)
            return x * self.tap(torch.sigmoid(self.channel_logits(x) + self.spatial_logits(x)))
        if self.order == "spatial_first":
            x = x * self.spatial_gate(x)  # M_s(F) * F
            return x * self.channel_gate(x)  # M_c(F') * F': (N, C, H, W)
        if self.mlp is not None:
            x = x * self.channel_gate(x)  # F' = M_c(F) * F: (N, C, H, W)
        if self.conv is not None:
            x = x * self.spatial_gate(x)  # F'' = M_s(F') * F': (N, C, H, W)
        return x
