"""Dual Attention Network (DANet): position attention and channel attention, summed.

Paper: Jun Fu, Jing Liu, Haijie Tian, Yong Li, Yongjun Bao, Zhiwei Fang, Hanqing Lu. *Dual
Attention Network for Scene Segmentation*. CVPR 2019. https://arxiv.org/abs/1809.02983

Idea: two self-attention modules side by side. The position attention module (PAM) lets every
position gather the values of all positions, weighted by query-key affinity (*where*); the channel
attention module (CAM) lets every channel gather all channels, weighted by the channels' own
affinity (*what*). Each adds its result to the input through a learnable scale that starts at 0.

Deviations from the paper:
- The paper's head puts each module between its own 3x3 convolutions and sums their outputs; as a
  drop-in block we sum the two modules' residual contributions onto one copy of the input,
  ``x + alpha * PAM + beta * CAM`` (= PAM(x) + CAM(x) - x), so the block starts as the identity
  rather than as 2x.
- Queries and keys have C / 8 channels, as in the released code; the paper's Sec. 3.2 writes B and
  C with C channels, like the values.
- The channel affinity follows the released code: ``softmax(max(E) - E)`` over each row of
  ``E = A A^T``. Softmax ignores a constant shift, so this equals ``softmax(-E)``: channels that
  are *less* similar get more weight (the paper's Eq. 3 writes ``softmax(E)``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .positions import attend, flatten, unflatten
from .tap import AttentionMap


class DANet(nn.Module):
    """DANet's position attention (PAM) and channel attention (CAM), summed.

    Args:
        channels: number of input channels C.
        reduction: query and key have C / reduction channels (paper: 8).
        fused: compute the position attention with SDPA (fused kernels on a GPU, the same path
            as the spatial chapter's modules); ``False`` takes the reference path, which
            materialises the (HW, HW) weights. A hooked ``position_tap`` always gets them.

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The position attention (N, HW, HW), each row a
        query position's softmax over all positions, passes through ``self.position_tap``; the
        channel attention (N, C, C), each row summing to one, through ``self.channel_tap``.

    Parameters: 2 (C^2 / r + C / r) (query, key) + C^2 + C (value) + 2 (alpha, beta).
    """

    def __init__(self, channels: int, *, reduction: int = 8, fused: bool = True) -> None:
        super().__init__()
        check_channels("DANet", channels)
        inner = reduced("DANet", channels, reduction)
        self.channels, self.fused = channels, fused
        self.query = nn.Conv2d(channels, inner, 1)  # B: (N, C/8, H, W)
        self.key = nn.Conv2d(channels, inner, 1)  # C: (N, C/8, H, W)
        self.value = nn.Conv2d(channels, channels, 1)  # D: (N, C, H, W)
        self.alpha = nn.Parameter(torch.zeros(1))  # PAM scale, initialised to 0
        self.beta = nn.Parameter(torch.zeros(1))  # CAM scale, initialised to 0
        self.position_tap = AttentionMap("position")
        self.channel_tap = AttentionMap("channel")

    def position(self, x: Tensor) -> Tensor:
        """PAM's attended values D S^T, before the scale alpha: (N, C, H, W)."""
        q = flatten(self.query(x))  # B: (N, HW, C')
        k = flatten(self.key(x))  # C: (N, HW, C')
        v = flatten(self.value(x))  # D: (N, HW, C)
        # row i of the (N, HW, HW) weights: query position i's softmax over every key position
        o = attend(q, k, v, scale=1.0, fused=self.fused, tap=self.position_tap)  # (N, HW, C)
        return unflatten(o, *x.shape[-2:])  # (N, C, H, W)

    def channel(self, x: Tensor) -> Tensor:
        """CAM's attended channels X A, before the scale beta: (N, C, H, W)."""
        a = x.flatten(2)  # (N, C, HW)
        energy = a @ a.transpose(1, 2)  # (N, C, C)
        energy = energy.amax(dim=-1, keepdim=True) - energy  # the code's max-minus-energy
        attn = self.channel_tap(energy.softmax(dim=-1))  # (N, C, C)
        return (attn @ a).view_as(x)  # (N, C, HW) -> (N, C, H, W)

    def forward(self, x: Tensor) -> Tensor:
        check_input("DANet", x, self.channels)
        out = self.alpha * self.position(x) + self.beta * self.channel(x)  # (N, C, H, W)
        return x + out.to(x.dtype)  # in x's dtype: fp32 scales must not upcast bf16 activations

    def extra_repr(self) -> str:
        return f"fused={self.fused}"
