"""Efficient Channel Attention (ECA).

Paper: Qilong Wang, Banggu Wu, Pengfei Zhu, Peihua Li, Wangmeng Zuo, Qinghua Hu. *ECA-Net:
Efficient Channel Attention for Deep Convolutional Neural Networks*. CVPR 2020.
https://arxiv.org/abs/1910.03151

Idea: SE without the bottleneck. Squeeze each channel by global average pooling, then let every
channel's gate see only its k neighbours through one 1-D convolution across the channel axis
(k weights shared by all channels, no dimensionality reduction), sigmoid, and rescale.

Variants (the paper's Table 2): ``shared=False`` gives every channel its own k weights instead of
one kernel shared by all, the paper's ECA-NS (k C parameters); with ``kernel_size=1`` it is the
paper's SE-Var2, one weight per channel and no cross-channel interaction:
``sigmoid(w_c * y_c)``, C parameters.

Deviations from the paper: none. The kernel size follows the paper's released code,
``t = int(|(log2 C + b) / gamma|)``, made odd by adding one when even: that is the paper's
"nearest odd number" with ties (an even t) rounded up. (The paper's gamma and b are the keywords
``kernel_gamma`` and ``kernel_b``: in this library ``gamma`` names a learned residual scale.)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .checks import check_channels, check_input
from .tap import AttentionMap


def eca_kernel_size(channels: int, *, kernel_gamma: float = 2, kernel_b: float = 1) -> int:
    """The adaptive kernel size k = psi(C) = |log2(C) / gamma + b / gamma|_odd (Eq. 12), with the
    paper's gamma = ``kernel_gamma`` and b = ``kernel_b``."""
    check_channels("ECA", channels)
    if kernel_gamma <= 0:
        raise ValueError(f"ECA: kernel_gamma must be positive, got {kernel_gamma!r}.")
    t = int(abs((math.log2(channels) + kernel_b) / kernel_gamma))
    return t if t % 2 else t + 1


class ECA(nn.Module):
    """Efficient Channel Attention: a k-tap 1-D convolution across the pooled channels.

    Args:
        channels: number of input channels C.
        kernel_size: a fixed odd kernel size k instead of the adaptive one (the paper's ablation).
        kernel_gamma, kernel_b: the paper's gamma and b, mapping C to the adaptive kernel size
            (paper defaults 2 and 1).
        shared: one kernel for all channels (ECA, the default); ``False`` gives each channel its
            own k weights (the paper's ECA-NS; with ``kernel_size=1``, its SE-Var2).

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The gate (N, C, 1, 1) passes through ``self.tap``.

    Parameters: exactly k (one 1-D kernel, no bias); k C with ``shared=False``. ``self.kernel``
    holds the weights as (1, k) or (C, k): row i weighs channels i - k // 2 ... i + k // 2.
    """

    def __init__(
        self,
        channels: int,
        *,
        kernel_size: int | None = None,
        kernel_gamma: float = 2,
        kernel_b: float = 1,
        shared: bool = True,
    ) -> None:
        super().__init__()
        check_channels("ECA", channels)
        k = (
            eca_kernel_size(channels, kernel_gamma=kernel_gamma, kernel_b=kernel_b)
            if kernel_size is None
            else kernel_size
        )
        if isinstance(k, bool) or not isinstance(k, int) or k < 1 or k % 2 == 0:
            raise ValueError(
                f"ECA: kernel_size must be a positive odd integer, got {kernel_size!r}."
            )
        if not isinstance(shared, bool):
            raise ValueError(f"ECA: shared must be True or False, got {shared!r}.")
        self.channels, self.kernel_size, self.shared = channels, k, shared
        if shared:
            self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)
        else:  # one row of k weights per channel, initialised as Conv1d would each
            bound = 1 / math.sqrt(k)
            self.weight = nn.Parameter(torch.empty(channels, k).uniform_(-bound, bound))
        self.tap = AttentionMap("channel")

    @property
    def kernel(self) -> Tensor:
        """The weights as (1, k) (shared) or (C, k) (one row per channel)."""
        return self.conv.weight.view(1, -1) if self.shared else self.weight

    def forward(self, x: Tensor) -> Tensor:
        check_input("ECA", x, self.channels)
        n, c = x.shape[:2]
        y = x.mean(dim=(2, 3)).view(n, 1, c)  # squeeze, channels as a sequence: (N, 1, C)
        if self.shared:
            z = self.conv(y)  # each channel sees its k neighbours: (N, 1, C)
        else:
            p = (self.kernel_size - 1) // 2
            windows = F.pad(y, (p, p)).unfold(2, self.kernel_size, 1)  # (N, 1, C, k)
            z = torch.einsum("nock,ck->noc", windows, self.weight)  # own weights: (N, 1, C)
        gate = self.tap(torch.sigmoid(z).view(n, c, 1, 1))  # (N, C, 1, 1), in (0, 1)
        return x * gate

    def extra_repr(self) -> str:
        shared = "" if self.shared else ", shared=False"
        return f"channels={self.channels}, kernel_size={self.kernel_size}{shared}"
