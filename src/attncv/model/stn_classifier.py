"""Classifiers that look through a spatial transformer, and the plain classifier they are compared
with: ResNet-18 behind a transformer (:func:`stn_resnet18`), behind a glimpse of a larger canvas
(:func:`glimpse_resnet18`), or behind a plain downscale of that canvas
(:func:`downscaled_resnet18`).

The ResNet is always built first, so after the same ``set_seed`` its weights equal the plain
network's: a comparison differs only by what is in front of it.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..attention.stn import SpatialTransformer
from .backbone import resnet18


class Downscale(nn.Module):
    """The whole input, area-averaged to ``size`` x ``size``: what a network without a
    transformer sees of a larger canvas. Shape: (N, C, H, W) -> (N, C, size, size)."""

    def __init__(self, size: int = 32) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.size)  # (N, C, size, size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


def stn_resnet18(
    num_classes: int = 100, *, width: int = 64, loc_channels: int = 16, loc_features: int = 32
) -> nn.Sequential:
    """ResNet-18 with an affine spatial transformer in front of it, warping the input images."""
    net = resnet18(num_classes, width=width)
    stn = SpatialTransformer(3, loc_channels=loc_channels, loc_features=loc_features)
    return nn.Sequential(stn, net)


def glimpse_resnet18(
    num_classes: int = 100,
    *,
    width: int = 64,
    canvas: int = 64,
    view: int = 32,
    scale_range: tuple[float, float] = (0.2, 0.7),
    gradient_scale: float = 0.05,
) -> nn.Sequential:
    """ResNet-18 classifying a ``view`` x ``view`` glimpse of a ``canvas`` x ``canvas`` input:
    a spatial transformer with the paper's attention transform (a window it places and sizes)
    chooses where to look. The window starts at the view's own side (``view / canvas`` of the
    canvas, centred) and its localisation network sees the canvas downscaled to ``view`` with two
    coordinate channels; ``gradient_scale`` slows its learning against the classifier's."""
    net = resnet18(num_classes, width=width)
    stn = SpatialTransformer(
        3,
        transform="attention",
        output_size=view,
        loc_size=view,
        coordinates=True,
        initial_scale=view / canvas,
        scale_range=scale_range,
        gradient_scale=gradient_scale,
    )
    return nn.Sequential(stn, net)


def downscaled_resnet18(
    num_classes: int = 100, *, width: int = 64, view: int = 32
) -> nn.Sequential:
    """ResNet-18 classifying the whole input downscaled to ``view`` x ``view``: the plain
    network of the glimpse comparison, at the same cost per image as :func:`glimpse_resnet18`'s
    classifier."""
    net = resnet18(num_classes, width=width)
    return nn.Sequential(Downscale(view), net)
