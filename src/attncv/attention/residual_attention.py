"""Residual attention: a trunk branch gated by a bottom-up top-down soft mask.

Paper: Fei Wang, Mengqing Jiang, Chen Qian, Shuo Yang, Cheng Li, Honggang Zhang, Xiaogang Wang,
Xiaoou Tang. *Residual Attention Network for Image Classification*. CVPR 2017.
https://arxiv.org/abs/1704.06904

Idea: a trunk branch T (residual units) processes the features; a mask branch M down-samples them
(max-pooling and residual units, for a large receptive field), up-samples them back by
interpolation with skip connections, and ends in two 1x1 convolutions and a sigmoid. The output is
``(1 + M) * T``: attention residual learning, so a mask near 0 keeps the trunk rather than
erasing it.

Deviations from the paper:
- Depth adapted to CIFAR's small maps: the paper's ImageNet network halves 56, 28 and 14 pixel maps
  3, 2 and 1 times, so every mask bottoms out at 7x7; ResNet-18 on CIFAR has 32, 16 and 8 pixel
  maps in stages 1-3, and we use ``depth=2`` halvings everywhere (bottoms of 8, 4 and 2 pixels).
- The residual units are pre-activation bottlenecks (C -> C/4 -> C) as in the paper, but the
  module keeps the channel count (the backbone's blocks change it), and it sits after each block of
  stages 1-3 rather than once per stage.
- The last 1x1 convolution of the mask, just before the sigmoid, has a bias (C more parameters,
  counted in the formula below); the authors' Attention-56 (their Caffe ``Attention-56-deploy``
  prototxt, layer ``mask/linear_2``) has none (``bias_term: false``), like every other
  convolution there.
- The mask's max-poolings (3x3, stride 2) pad by 1 pixel, so a map of H pixels becomes
  ceil(H / 2) with windows centred on the even pixels; the authors' Caffe poolings have no padding
  and round the output size up, so their windows start at pixel 0 and, for odd H, give one row
  and column fewer (7 -> 3, ours 7 -> 4). Even sizes (all of CIFAR's) get the same size, on a grid
  shifted by one pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .tap import AttentionMap


class ResidualUnit(nn.Module):
    """Pre-activation bottleneck unit: x + conv1x1(conv3x3(conv1x1(x))) with BN-ReLU before each.

    Parameters: 2 C + 2 C m + 4 m + 9 m^2 with m = C / 4.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        mid = reduced("Residual attention", channels, 4)

        def pre(c_in: int, c_out: int, k: int) -> list[nn.Module]:
            return [
                nn.BatchNorm2d(c_in),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
            ]

        self.body = nn.Sequential(*pre(channels, mid, 1), *pre(mid, mid, 3), *pre(mid, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)  # (N, C, H, W)


def units(channels: int, n: int) -> nn.Sequential:
    return nn.Sequential(*(ResidualUnit(channels) for _ in range(n)))


class ResidualAttention(nn.Module):
    """The attention module of a Residual Attention Network.

    Args:
        channels: number of input channels C (at least 4: the units' bottleneck is C / 4).
        pre_units: the paper's p, residual units before the split and after the merge (1).
        trunk_units: the paper's t, residual units in the trunk branch (2).
        mask_units: the paper's r, residual units between poolings in the mask branch (1; twice
            that at the bottom).
        depth: max-pooling (stride 2) steps in the mask branch, with depth - 1 skip connections.

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The soft mask M (N, C, H, W), in (0, 1), passes
        through ``self.tap``.

    Parameters: U (2 p + t + 2 r depth + depth - 1) + 2 C^2 + 5 C, with U one residual unit's.
    """

    def __init__(
        self,
        channels: int,
        *,
        pre_units: int = 1,
        trunk_units: int = 2,
        mask_units: int = 1,
        depth: int = 2,
    ) -> None:
        super().__init__()
        check_channels("Residual attention", channels, minimum=4)
        p, t, r = pre_units, trunk_units, mask_units
        for name, value, low in (
            ("pre_units", p, 0),
            ("trunk_units", t, 0),
            ("mask_units", r, 1),
            ("depth", depth, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(
                    f"Residual attention: {name} must be an integer >= {low}, got {value!r}."
                )
        self.channels = channels
        self.pre, self.trunk, self.post = units(channels, p), units(channels, t), units(channels, p)
        self.down = nn.ModuleList(
            units(channels, 2 * r if i == depth - 1 else r) for i in range(depth)
        )  # after each max-pool
        self.skips = nn.ModuleList(ResidualUnit(channels) for _ in range(depth - 1))
        self.up = nn.ModuleList(units(channels, r) for _ in range(depth - 1))
        self.head = nn.Sequential(  # two 1x1 convolutions, pre-activated, then the sigmoid
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1),
        )
        self.tap = AttentionMap("mask")

    def mask(self, x: Tensor) -> Tensor:
        """The soft mask M(x) in (0, 1): (N, C, H, W)."""
        sizes, skips = [], []
        for level, block in enumerate(self.down):  # bottom-up
            sizes.append(x.shape[2:])
            x = block(F.max_pool2d(x, 3, stride=2, padding=1))  # (N, C, ceil(H/2), ceil(W/2))
            if level < len(self.skips):
                skips.append(self.skips[level](x))
        for level in reversed(range(len(self.down))):  # top-down
            x = F.interpolate(x, size=sizes[level], mode="bilinear", align_corners=False)
            if level > 0:
                x = self.up[level - 1](x + skips[level - 1])  # merge the skip connection
        return self.tap(torch.sigmoid(self.head(x)))  # (N, C, H, W)

    def forward(self, x: Tensor) -> Tensor:
        check_input("Residual attention", x, self.channels)
        x = self.pre(x)  # (N, C, H, W)
        return self.post((1 + self.mask(x)) * self.trunk(x))  # (1 + M) * T: (N, C, H, W)
