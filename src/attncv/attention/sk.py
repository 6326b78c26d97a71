"""Selective Kernel (SK) attention.

Paper: Xiang Li, Wenhai Wang, Xiaolin Hu, Jian Yang. *Selective Kernel Networks*. CVPR 2019.
https://arxiv.org/abs/1903.06586

Idea: run M convolution branches with different receptive fields (3x3, and 3x3 with dilation 2 for
the 5x5), fuse them by summing, squeeze the sum to a compact descriptor, and let a softmax across
the branches choose, per channel, how much of each receptive field to keep.

Deviations from the paper:
- Placement: in SKNet the SK unit *replaces* the 3x3 convolution of a ResNeXt bottleneck. Our
  ResNet-18 is made of BasicBlocks, so here SK is a shape-preserving module on the residual branch
  (after the second BN, like SE): the block's own convolutions stay and SK's branches come on top.
- Groups: the paper uses G = 32 groups in the branch convolutions. At widths that 32 does not
  divide, G becomes the largest divisor of C that is at most 32 (C = 16 gives 16, C = 48 gives 24).
- The fully connected layers have no biases, as in the paper's equations (the BN after the first
  one supplies the shift). That BN, as in the paper, needs two or more images to train: a
  training batch of 1 is a ``ValueError`` that says so (use a batch >= 2 or eval mode).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input
from .tap import AttentionMap


def sk_groups(channels: int, groups: int = 32) -> int:
    """The largest divisor of ``channels`` that is at most ``groups`` (32 where 32 divides C)."""
    return max(g for g in range(1, min(groups, channels) + 1) if channels % g == 0)


class SK(nn.Module):
    """Selective Kernel attention: a per-channel softmax over branches of different dilations.

    Args:
        channels: number of input channels C.
        branches: the paper's M, the number of branches; branch m is a 3x3 convolution with
            dilation m (paper default 2).
        groups: the paper's G, groups of the branch convolutions (paper default 32; clamped to a
            divisor of C).
        reduction: the paper's r, reduction ratio of the compact descriptor (paper default 16).
        min_hidden: the paper's L, the smallest width of the compact descriptor (paper default
            32): its width is d = max(C // reduction, min_hidden).

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The branch weights (N, M, C), which sum to one
        over the M branches, pass through ``self.tap`` (kind ``"branch"``).

    Parameters: M (9 C^2 / G + 2 C) for the branches (convolutions, BN) + C d + 2 d for the fuse
    layer (FC, BN) + M C d for the per-branch FCs, with d = max(C // r, L) (``self.hidden``).
    """

    def __init__(
        self,
        channels: int,
        *,
        branches: int = 2,
        groups: int = 32,
        reduction: int = 16,
        min_hidden: int = 32,
    ) -> None:
        super().__init__()
        check_channels("SK", channels)
        for name, value in (
            ("branches", branches),
            ("groups", groups),
            ("reduction", reduction),
            ("min_hidden", min_hidden),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SK: {name} must be a positive integer, got {value!r}.")
        if branches < 2:
            raise ValueError(f"SK: branches={branches} leaves nothing to select; use 2 or more.")
        self.channels, self.num_branches = channels, branches
        self.groups = sk_groups(channels, groups)
        self.hidden = max(channels // reduction, min_hidden)  # the paper's d
        self.convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(
                    channels, channels, 3, padding=m, dilation=m, groups=self.groups, bias=False
                ),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            )
            for m in range(1, branches + 1)
        )
        self.fc = nn.Sequential(  # fuse: z = ReLU(BN(W s))
            nn.Linear(channels, self.hidden, bias=False),
            nn.BatchNorm1d(self.hidden),
            nn.ReLU(inplace=True),
        )
        self.select = nn.Linear(self.hidden, branches * channels, bias=False)  # A, B stacked
        self.tap = AttentionMap("branch")

    def forward(self, x: Tensor) -> Tensor:
        check_input("SK", x, self.channels)
        n, c = x.shape[:2]
        if self.training and n == 1:
            raise ValueError(
                "SK cannot train on a batch of 1: its fuse layer has BatchNorm (as in the "
                "paper), which needs two or more images for its batch statistics. Use a "
                "batch ≥ 2 or eval mode (module.eval()) for a single image."
            )
        u = [conv(x) for conv in self.convs]  # split: M x (N, C, H, W)
        # fuse and squeeze: GAP(U1 + U2) = GAP(U1) + GAP(U2), so U itself is never formed
        s = torch.stack([v.mean(dim=(2, 3)) for v in u]).sum(0)  # (N, C)
        z = self.fc(s)  # compact descriptor: (N, d)
        logits = self.select(z).view(n, self.num_branches, c)  # (N, M, C)
        a = self.tap(torch.softmax(logits, dim=1)).to(x.dtype)  # over branches: (N, M, C)
        a = a.view(n, self.num_branches, c, 1, 1)  # (N, M, C, 1, 1)
        v = a[:, 0] * u[0]  # select: (N, C, H, W)
        for m in range(1, self.num_branches):
            v = v + a[:, m] * u[m]
        return v

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, branches={self.num_branches}, groups={self.groups}, "
            f"hidden={self.hidden}"
        )
