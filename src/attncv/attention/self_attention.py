"""Self-attention over positions, as in the Self-Attention GAN (SAGAN).

Paper: Han Zhang, Ian Goodfellow, Dimitris Metaxas, Augustus Odena. *Self-Attention Generative
Adversarial Networks*. ICML 2019. https://arxiv.org/abs/1805.08318

Idea: every position of a feature map attends to every other: 1x1 convolutions give a query and a
key (C/8 channels) and a value (C channels) per position; a softmax over the H W positions weighs
the values; the result, scaled by a learnable gamma that starts at 0, is added to the input, so the
block begins as the identity and lets the network lean on global context as it learns.

Names: the paper's Eq. 1 is s_ij = f(x_i)^T g(x_j) with beta_{j,i} = softmax over i of s_ij, the
weight of position i for output position j. So g acts at the output position (the query) and f at
the position attended to (the key): ``query`` here is the paper's W_g, ``key`` its W_f; the
function is the same.

Deviations from the paper:
- the value is one 1x1 convolution C -> C before the weighted sum, as in the widely used PyTorch
  implementation; the paper writes o_j = v(sum_i beta_{j,i} h(x_i)) with h: C -> C/8 and
  v: C/8 -> C (the same as a value W_v W_h of rank C/8, since the weights sum to one), and its
  released code uses C/2 with max-pooled keys and values. Parameters: C^2 + C here against
  C^2/4 + C/8 + C;
- spectral normalisation (used in SAGAN's GAN generator and discriminator) is left out: here the
  block sits in a classifier trained with BN and SGD.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .positions import attend, flatten, unflatten
from .tap import AttentionMap


class SelfAttention(nn.Module):
    """SAGAN self-attention over the H W positions of a feature map.

    Args:
        channels: number of input channels C.
        reduction: query/key width is C / reduction (paper: 8).
        fused: compute the attention with SDPA (fused kernels on a GPU); ``False`` takes the
            reference path. Both give the same result to float tolerance.

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The weights (N, HW, HW), row i over the positions
        that query position i attends to, pass through ``self.tap`` when it is hooked.

    Parameters: 2 (C^2 / r + C / r) for query and key, C^2 + C for the value, 1 for gamma.
    """

    def __init__(self, channels: int, *, reduction: int = 8, fused: bool = True) -> None:
        super().__init__()
        check_channels("Self-attention", channels)
        inner = reduced("Self-attention", channels, reduction)
        self.channels, self.fused = channels, fused
        self.query = nn.Conv2d(channels, inner, kernel_size=1)  # paper's g: (N, C/8, H, W)
        self.key = nn.Conv2d(channels, inner, kernel_size=1)  # paper's f: (N, C/8, H, W)
        self.value = nn.Conv2d(channels, channels, kernel_size=1)  # v h in one: (N, C, H, W)
        self.gamma = nn.Parameter(torch.zeros(1))  # (1,), starts at 0: the block is the identity
        self.tap = AttentionMap("position")

    def forward(self, x: Tensor) -> Tensor:
        check_input("Self-attention", x, self.channels)
        h, w = x.shape[-2:]
        q = flatten(self.query(x))  # (N, HW, C/8)
        k = flatten(self.key(x))  # (N, HW, C/8)
        v = flatten(self.value(x))  # (N, HW, C)
        o = attend(q, k, v, scale=1.0, fused=self.fused, tap=self.tap)  # (N, HW, C)
        return x + (self.gamma * unflatten(o, h, w)).to(x.dtype)  # (N, C, H, W), x's dtype

    def extra_repr(self) -> str:
        return f"fused={self.fused}"
