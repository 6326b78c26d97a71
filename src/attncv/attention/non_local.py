"""The non-local block.

Paper: Xiaolong Wang, Ross Girshick, Abhinav Gupta, Kaiming He. *Non-local Neural Networks*.
CVPR 2018. https://arxiv.org/abs/1711.07971

Idea: the response at a position is a weighted sum of features at all positions,
y_i = 1/C(x) sum_j f(x_i, x_j) g(x_j), with theta, phi and g as 1x1 convolutions to C/2 channels;
a 1x1 convolution W_z back to C channels, followed by a BN whose scale starts at zero, is added to
the input (z = BN(W_z y) + x), so the block starts as the identity.

Pairwise functions f (``mode``): ``"embedded_gaussian"`` exp(theta_i^T phi_j) / sum_j (a softmax,
the default), ``"gaussian"`` exp(x_i^T x_j) / sum_j (a softmax over the raw features: no theta or
phi), ``"dot_product"`` theta_i^T phi_j / N, ``"concatenation"`` ReLU(w_f^T [theta_i, phi_j]) / N,
where N is the number of positions j.

Deviations from the paper:
- the dot product is computed as theta (phi^T g) / N on the fused path where that is cheaper (more
  positions than channels): the same numbers, with no (HW x HW) matrix, in O(HW C^2) instead of
  O(HW^2 C).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checks import check_channels, check_input, reduced
from .positions import attend, flatten, listening, unflatten
from .tap import AttentionMap

MODES = ("embedded_gaussian", "gaussian", "dot_product", "concatenation")


class NonLocal(nn.Module):
    """Non-local block (embedded Gaussian by default) with a zero-initialised output BN.

    Args:
        channels: number of input channels C.
        mode: the pairwise function, one of :data:`MODES`.
        reduction: theta, phi and g have C / reduction channels (paper: 2).
        sub_sample: max-pool phi and g by 2x2, so each position attends to HW/4 positions.
        fused: the fast path (SDPA for the two Gaussians, re-association for the dot product
            where it saves work; concatenation has none); ``False`` takes the reference path.

    Shape:
        Input (N, C, H, W); output (N, C, H, W). The pairwise weights (N, HW, S), S = HW or
        (H/2)(W/2) with ``sub_sample``, pass through ``self.tap`` when it is hooked.

    Parameters: 3 (C C' + C') for theta, phi, g (C' = C / r), C' C + C for W_z, 2 C for its BN,
    plus 2 C' for w_f with concatenation; the Gaussian has no theta and phi (C C' + C' fewer twice).
    """

    def __init__(
        self,
        channels: int,
        *,
        mode: str = "embedded_gaussian",
        reduction: int = 2,
        sub_sample: bool = False,
        fused: bool = True,
    ) -> None:
        super().__init__()
        check_channels("Non-local", channels)
        if mode not in MODES:
            raise ValueError(f"Non-local: mode must be one of {MODES}, got {mode!r}.")
        inner = reduced("Non-local", channels, reduction)
        self.channels, self.mode, self.sub_sample, self.fused = channels, mode, sub_sample, fused
        if mode != "gaussian":  # the Gaussian compares the raw features x_i, x_j
            self.theta = nn.Conv2d(channels, inner, kernel_size=1)  # (N, C', H, W)
            self.phi = nn.Conv2d(channels, inner, kernel_size=1)  # (N, C', H, W)
        self.g = nn.Conv2d(channels, inner, kernel_size=1)  # (N, C', H, W)
        if mode == "concatenation":
            self.w_f = nn.Parameter(torch.randn(2 * inner) / (2 * inner) ** 0.5)  # (2C',)
        self.w_z = nn.Conv2d(inner, channels, kernel_size=1)  # (N, C, H, W)
        self.bn = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.bn.weight)  # z = BN(W_z y) + x = x at initialisation
        self.tap = AttentionMap("position")

    def forward(self, x: Tensor) -> Tensor:
        check_input("Non-local", x, self.channels)
        h, w = x.shape[-2:]
        embed = self.mode != "gaussian"  # the Gaussian: theta(x) = phi(x) = x, width C
        keys = self.phi(x) if embed else x, self.g(x)  # (N, C' or C, H, W), (N, C', H, W)
        if self.sub_sample:
            if min(h, w) < 2:
                raise ValueError(f"Non-local: sub_sample needs H, W >= 2, got {h}x{w}.")
            keys = tuple(F.max_pool2d(t, 2) for t in keys)  # (N, ., H/2, W/2)
        theta = flatten(self.theta(x) if embed else x)  # (N, HW, C' or C)
        phi, g = flatten(keys[0]), flatten(keys[1])  # (N, S, C' or C), (N, S, C')
        y = self._pairwise(theta, phi, g)  # (N, HW, C')
        return x + self.bn(self.w_z(unflatten(y, h, w)))  # (N, C, H, W)

    def _pairwise(self, theta: Tensor, phi: Tensor, g: Tensor) -> Tensor:
        """y_i = 1/C(x) sum_j f(theta_i, phi_j) g_j: (N, L, d), (N, S, d), (N, S, C') -> (N, L, C')
        (d = C' with the embeddings, C for the Gaussian)."""
        n = phi.shape[1]  # S, the normaliser of dot product and concatenation
        if self.mode in ("embedded_gaussian", "gaussian"):  # a softmax over j: SDPA, scale 1
            return attend(theta, phi, g, scale=1.0, fused=self.fused, tap=self.tap)
        length, inner = theta.shape[1:]
        cheaper = (length + n) * inner < 2 * length * n  # MACs: theta (phi^T g) < (theta phi^T) g
        if self.mode == "dot_product" and self.fused and cheaper and not listening(self.tap):
            return theta @ (phi.transpose(1, 2) @ g) / n  # (N, L, C') via (N, C', C')
        if self.mode == "dot_product":
            f = theta @ phi.transpose(1, 2) / n  # (N, L, S)
        else:  # concatenation: ReLU(w_f^T [theta_i, phi_j]) = ReLU(a_i + b_j)
            w_theta, w_phi = self.w_f.chunk(2)  # (C',) each
            a, b = theta @ w_theta, phi @ w_phi  # (N, L), (N, S)
            f = torch.relu(a[:, :, None] + b[:, None, :]) / n  # (N, L, S)
        return self.tap(f) @ g  # (N, L, C')

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, sub_sample={self.sub_sample}, fused={self.fused}"
