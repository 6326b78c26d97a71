"""Squeeze-and-Excitation (SE).

Paper: Jie Hu, Li Shen, Gang Sun. *Squeeze-and-Excitation Networks*. CVPR 2018.
https://arxiv.org/abs/1709.01507

Idea: squeeze each channel to one number by global average pooling, pass the C numbers through a
bottleneck MLP (C -> C/r -> C) and a sigmoid, and rescale every channel by its gate.

Deviations from the paper: none. The hidden width is ``channels // reduction`` exactly (timm rounds
it up to a multiple of 8, which turns r=16 into 8 hidden units at every CIFAR width); both fully
connected layers carry biases, as in the paper's released code.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .tap import AttentionMap


class SE(nn.Module):
    """Squeeze-and-Excitation channel attention.

    Args:
        channels: number of input channels C.
        reduction: the reduction ratio r of the bottleneck (paper default 16).

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The gate (N, C, 1, 1) passes through ``self.tap``.

    Parameters: 2 C^2 / r weights plus C / r + C biases.
    """

    def __init__(self, channels: int, *, reduction: int = 16) -> None:
        super().__init__()
        check_channels("SE", channels)
        hidden = reduced("SE", channels, reduction)
        self.channels = channels
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1)  # FC as 1x1 conv: (N, C/r, 1, 1)
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1)  # (N, C, 1, 1)
        self.tap = AttentionMap("channel")

    def forward(self, x: Tensor) -> Tensor:
        check_input("SE", x, self.channels)
        s = x.mean(dim=(2, 3), keepdim=True)  # squeeze: (N, C, 1, 1)
        z = self.fc2(torch.relu(self.fc1(s)))  # excitation logits: (N, C, 1, 1)
        gate = self.tap(torch.sigmoid(z))  # (N, C, 1, 1), in (0, 1)
        return x * gate
