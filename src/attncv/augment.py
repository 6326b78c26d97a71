"""Data augmentation on the training device: batches never wait on a CPU loader.

Random crop with 4-pixel zero padding and horizontal flip, as in He et al. (2016) for CIFAR, done
on whole uint8 batches with tensor indexing; then normalisation with the dataset's statistics.
"""

from __future__ import annotations

import torch
from torch import Tensor


def augment(images: Tensor, *, pad: int = 4, flip: bool = True,
            generator: torch.Generator | None = None) -> Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of a uint8 batch (N, C, H, W)."""
    n, _, h, w = images.shape
    dev = images.device
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))  # (N, C, H+2p, W+2p)
    dy = torch.randint(0, 2 * pad + 1, (n, 1), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n, 1), device=dev, generator=generator)
    rows = dy + torch.arange(h, device=dev)  # (N, H)
    cols = dx + torch.arange(w, device=dev)  # (N, W)
    if flip:
        mirror = torch.rand(n, 1, device=dev, generator=generator) < 0.5
        cols = torch.where(mirror, cols.flip(1), cols)  # reversed columns = flipped crop
    batch = torch.arange(n, device=dev)[:, None, None]
    out = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()  # (N, C, H, W)


def normalize(images: Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> Tensor:
    """uint8 (N, C, H, W) -> float32 ``(x / 255 - mean) / std``."""
    m = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return (images.float() / 255 - m) / s
