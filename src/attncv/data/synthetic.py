"""A synthetic stand-in in CIFAR's layout, for machines with no real data at all."""

from __future__ import annotations

import torch
from torch import Tensor

from .dataset import CifarData


def synthetic(
    num_classes: int = 10, train_per_class: int = 500, test_per_class: int = 100, seed: int = 0
) -> CifarData:
    """A learnable stand-in in the same layout: each class is a colour and a stripe orientation,
    with random phase, position and noise. Generated in memory; labelled ``synthetic``
    everywhere."""
    g = torch.Generator().manual_seed(seed)
    colours = torch.rand(num_classes, 3, 1, 1, generator=g) * 0.6 + 0.2
    angles = torch.arange(num_classes) * torch.pi / num_classes
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")

    def make(per_class: int) -> tuple[Tensor, Tensor]:
        labels = torch.arange(num_classes).repeat_interleave(per_class)
        phase = torch.rand(len(labels), 1, 1, generator=g) * 2 * torch.pi
        a = angles[labels].view(-1, 1, 1)
        stripes = torch.sin((xx * torch.cos(a) + yy * torch.sin(a)) * 0.8 + phase)  # (N, 32, 32)
        img = colours[labels] * (0.75 + 0.25 * stripes[:, None])  # (N, 3, 32, 32)
        img = img + 0.08 * torch.randn(img.shape, generator=g)
        return (img.clamp(0, 1) * 255).to(torch.uint8), labels

    (xtr, ytr), (xte, yte) = make(train_per_class), make(test_per_class)
    mean = tuple(xtr.float().div(255).mean(dim=(0, 2, 3)).tolist())
    std = tuple(xtr.float().div(255).std(dim=(0, 2, 3)).tolist())
    return CifarData(
        "synthetic",
        "synthetic stand-in (no real images)",
        "generated in memory",
        xtr,
        ytr,
        xte,
        yte,
        [f"pattern {i}" for i in range(num_classes)],
        mean,
        std,
    )
