"""Criss-cross attention (CCNet), applied recurrently.

Paper: Zilong Huang, Xinggang Wang, Lichao Huang, Chang Huang, Yunchao Wei, Wenyu Liu. *CCNet:
Criss-Cross Attention for Semantic Segmentation*. ICCV 2019. https://arxiv.org/abs/1811.11721

Idea: self-attention in which each position attends only to the H + W - 1 positions in its own row
and column (itself counted once), so the affinities cost O(HW (H + W)) instead of O(HW HW).
Applied twice with shared weights, information reaches every position from every other: the
first pass carries it along a row or column, the second along the other.

CCNet was designed, concurrently with DANet, to make the non-local block's full self-attention
cheaper for segmentation.

Deviations from the paper:
- The learned scale ``gamma`` (initialised to 0) comes from the released code: the paper's Eq. 2
  adds the attended values to the input unscaled, ``H'_u = sum_i A_{i,u} Phi_{i,u} + H_u``.
- The paper's RCCA head wraps the recurrence in 3x3 convolutions and concatenates the result with
  the input; as a drop-in block we apply the criss-cross module itself ``recurrence`` times, each
  a residual ``x + gamma * attended``, so the block starts as the identity.
- Queries and keys have C / 8 channels, as in the released code (the paper: some C' < C).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .tap import AttentionMap


class CCNet(nn.Module):
    """Recurrent criss-cross attention (RCCA) with weights shared across recurrences.

    Args:
        channels: number of input channels C.
        reduction: query and key have C / reduction channels (paper: 8).
        recurrence: number of passes R with shared weights (paper: 2, which reaches every position).

    Shape:
        Input (N, C, H, W); output (N, C, H, W). Each pass sends its attention (N, H, W, H + W)
        through ``self.tap``: for the position (h, w), entries [0, H) are the weights of the
        positions (i, w) in its column (the entry i = h is masked to 0, so the position counts
        once) and entries [H, H + W) those of the positions (h, j) in its row; they sum to one.

    Parameters: 2 (C^2 / r + C / r) (query, key) + C^2 + C (value) + 1 (gamma).
    """

    def __init__(self, channels: int, *, reduction: int = 8, recurrence: int = 2) -> None:
        super().__init__()
        check_channels("CCNet", channels)
        inner = reduced("CCNet", channels, reduction)
        if isinstance(recurrence, bool) or not isinstance(recurrence, int) or recurrence < 1:
            raise ValueError(f"CCNet: recurrence must be an integer >= 1, got {recurrence!r}.")
        self.channels, self.recurrence = channels, recurrence
        self.query = nn.Conv2d(channels, inner, 1)  # (N, C', H, W)
        self.key = nn.Conv2d(channels, inner, 1)  # (N, C', H, W)
        self.value = nn.Conv2d(channels, channels, 1)  # (N, C, H, W)
        self.gamma = nn.Parameter(torch.zeros(1))  # initialised to 0: the identity
        self.tap = AttentionMap("position")

    def criss_cross(self, x: Tensor) -> Tensor:
        """One pass of criss-cross attention, before the residual: (N, C, H, W)."""
        h = x.shape[2]
        q, k, v = self.query(x), self.key(x), self.value(x)
        e_col = torch.einsum("nchw,ncgw->nhwg", q, k)  # (N, H, W, H): (h, w) vs (g, w)
        e_row = torch.einsum("nchw,nchv->nhwv", q, k)  # (N, H, W, W): (h, w) vs (h, v)
        self_in_col = torch.eye(h, dtype=torch.bool, device=x.device)[:, None, :]  # (H, 1, H)
        e_col = e_col.masked_fill(self_in_col, float("-inf"))  # the row branch counts (h, w)
        attn = self.tap(torch.cat([e_col, e_row], dim=-1).softmax(dim=-1))  # (N, H, W, H + W)
        a_col, a_row = attn.split([h, x.shape[3]], dim=-1)  # (N, H, W, H), (N, H, W, W)
        out = torch.einsum("nhwg,ncgw->nchw", a_col, v)  # gather along the column
        return out + torch.einsum("nhwv,nchv->nchw", a_row, v)  # and along the row: (N, C, H, W)

    def forward(self, x: Tensor) -> Tensor:
        check_input("CCNet", x, self.channels)
        for _ in range(self.recurrence):  # shared weights: the same module R times
            x = x + (self.gamma * self.criss_cross(x)).to(x.dtype)  # (N, C, H, W), x's dtype
        return x
