"""Classifiers that look through a spatial transformer, and the plain classifier they are compared
with: ResNet-18 behind a transformer (:func:`stn_resnet18`), behind a glimpse of a larger canvas
(:func:`glimpse_resnet18`), behind a fixed window of that canvas (``glimpse_resnet18(...,
fixed_side=s)``, the control that reads at the glimpse's resolution without finding anything), or
behind a plain downscale of it (:func:`downscaled_resnet18`).

The ResNet is always built first, so after the same ``set_seed`` its weights equal the plain
network's: a comparison differs only by what is in front of it.
"""

from __future__ import annotations

import torch
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


def read_windows(x: Tensor, theta: Tensor, view: int) -> Tensor:
    """Each input's window ``theta`` (N, 2, 3), read at ``view`` x ``view`` by the spatial
    transformer's bilinear sampler (``align_corners=False``, zeros outside the input), in float32
    (float64 stays) and returned in the input's dtype: what :class:`FixedWindow` and the oracle
    window (:mod:`attncv.train.stn_oracle`) show the classifier. Shape: (N, C, H, W) -> (N, C,
    view, view)."""
    n, c = x.shape[:2]
    dtype = torch.promote_types(x.dtype, torch.float32)
    grid = F.affine_grid(theta.to(dtype), [n, c, view, view], align_corners=False)
    return F.grid_sample(x.to(dtype), grid, align_corners=False).to(x.dtype)


class FixedWindow(nn.Module):
    """A square window of side ``side`` (a fraction of the input's side) centred at ``centre``
    (normalised coordinates, -1 to 1), read at ``view`` x ``view`` by the spatial transformer's
    bilinear sampler: a glimpse that never moves. Zero padding outside the input, as the
    transformer's. Shape: (N, C, H, W) -> (N, C, view, view)."""

    def __init__(self, side: float, view: int = 32, centre: tuple[float, float] = (0.0, 0.0)):
        super().__init__()
        if not 0 < side <= 1:
            raise ValueError(f"FixedWindow: side must be in (0, 1], got {side}.")
        self.side, self.view, self.centre = side, view, centre
        theta = torch.tensor([[side, 0.0, centre[0]], [0.0, side, centre[1]]])
        self.register_buffer("theta", theta, persistent=False)  # (2, 3)

    def forward(self, x: Tensor) -> Tensor:
        return read_windows(x, self.theta.expand(len(x), 2, 3), self.view)

    def extra_repr(self) -> str:
        return f"side={self.side:.3f}, view={self.view}, centre={self.centre}"


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
    fixed_side: float | None = None,
) -> nn.Sequential:
    """ResNet-18 classifying a ``view`` x ``view`` glimpse of a ``canvas`` x ``canvas`` input:
    a spatial transformer with the paper's attention transform (a window it places and sizes)
    chooses where to look. The window starts at the view's own side (``view / canvas`` of the
    canvas, centred) and its localisation network sees the canvas downscaled to ``view`` with two
    coordinate channels; ``gradient_scale`` slows its learning against the classifier's.

    ``fixed_side``: the control: the same ResNet (the same weights after the same seed) behind a
    :class:`FixedWindow` of that side at the canvas centre, which reads at the glimpse's
    resolution but finds nothing (set it to the learned window's mean side)."""
    net = resnet18(num_classes, width=width)
    if fixed_side is not None:
        return nn.Sequential(FixedWindow(fixed_side, view), net)
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
