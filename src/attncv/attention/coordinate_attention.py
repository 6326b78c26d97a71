"""Coordinate attention.

Paper: Qibin Hou, Daquan Zhou, Jiashi Feng. *Coordinate Attention for Efficient Mobile Network
Design*. CVPR 2021. https://arxiv.org/abs/2103.02907

Idea: factorise a channel-and-position gate into two one-dimensional ones. Pool along the width
and along the height separately, encode both strips with one shared 1x1 convolution, then give
each direction its own 1x1 convolution and sigmoid: ``y = x * a_h * a_w``, so every channel gets a
gate that varies over rows and another that varies over columns.

Deviations from the paper: none. As in the released code the convolutions carry biases and the
hidden width is ``max(8, channels // reduction)`` (which exceeds C for C < 8 * reduction).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input
from .tap import AttentionMap


class CoordinateAttention(nn.Module):
    """Coordinate attention: a height profile and a width profile per channel.

    Args:
        channels: number of input channels C.
        reduction: reduction ratio r; the shared layer has ``max(min_hidden, C // r)`` channels
            (paper: r = 32).
        min_hidden: the smallest width of the shared layer (the released code's 8).

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The height gate a_h (N, C, H, 1) passes through
        ``self.tap_h`` and the width gate a_w (N, C, 1, W) through ``self.tap_w`` (both of kind
        ``"mask"``: their product is an (N, C, H, W) mask).

    Parameters, with M = max(min_hidden, C / r): C M + M (shared conv) + 2 M (BN) + 2 (M C + C).
    """

    def __init__(self, channels: int, *, reduction: int = 32, min_hidden: int = 8) -> None:
        super().__init__()
        check_channels("Coordinate attention", channels)
        if reduction <= 0:
            raise ValueError(
                f"Coordinate attention: reduction must be positive, got {reduction!r}."
            )
        check_channels("Coordinate attention (min_hidden)", min_hidden)
        hidden = max(min_hidden, int(channels // reduction))
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, hidden, 1)  # shared: (N, M, H + W, 1)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.act = nn.Hardswish()
        self.conv_h = nn.Conv2d(hidden, channels, 1)  # (N, C, H, 1)
        self.conv_w = nn.Conv2d(hidden, channels, 1)  # (N, C, W, 1)
        self.tap_h = AttentionMap("mask")
        self.tap_w = AttentionMap("mask")

    def forward(self, x: Tensor) -> Tensor:
        check_input("Coordinate attention", x, self.channels)
        h, w = x.shape[2:]
        pool_h = x.mean(dim=3, keepdim=True)  # average over the width: (N, C, H, 1)
        pool_w = x.mean(dim=2, keepdim=True).transpose(2, 3)  # over the height: (N, C, W, 1)
        y = self.act(self.bn1(self.conv1(torch.cat([pool_h, pool_w], dim=2))))  # (N, M, H+W, 1)
        y_h, y_w = y.split([h, w], dim=2)  # (N, M, H, 1), (N, M, W, 1)
        a_h = self.tap_h(torch.sigmoid(self.conv_h(y_h)))  # (N, C, H, 1)
        a_w = self.tap_w(torch.sigmoid(self.conv_w(y_w)).transpose(2, 3))  # (N, C, 1, W)
        return x * a_h * a_w  # (N, C, H, W)
