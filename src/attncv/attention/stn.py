"""The spatial transformer (STN).

Paper: Max Jaderberg, Karen Simonyan, Andrew Zisserman, Koray Kavukcuoglu. *Spatial Transformer
Networks*. NeurIPS 2015. https://arxiv.org/abs/1506.02025

Idea: a small localisation network looks at the input and regresses the parameters theta of a
transform; a grid generator (``affine_grid``) maps every output pixel to a point of the input and a
bilinear sampler (``grid_sample``) reads it there. Attention as *where to look*, by warping. Two
transforms from the paper (Sec. 3.1): a general ``"affine"`` one (six numbers, starting at the
identity) and the ``"attention"`` one, theta = [[s, 0, tx], [0, s, ty]]: a square window of side
s (as a fraction of the input) centred at (tx, ty), cropped and resized to the output, which can
be smaller than the input: a glimpse.

Deviations from the paper:
- the localisation network is one fixed design for any input (the paper sizes it per
  experiment): 3x3 convolutions with BN and ReLU, optionally on an average-pooled copy of the
  input (``loc_size``) and with two coordinate channels (``coordinates``, CoordConv, Liu et al.
  2018). For ``"affine"`` it pools to a 4x4 grid that keeps where things are and regresses theta
  with two fully connected layers. For ``"attention"`` it draws a heat map over the input and
  places the window's centre at the heat map's expected position (a spatial soft-argmax, as in
  Levine et al. 2016's keypoints): the same convolution looks for the object everywhere, so what
  it learns at one place holds at every other, and the window can only be placed on the input;
  the window's side comes from the pooled features through one linear layer;
- the ``"attention"`` transform keeps s in ``scale_range`` (a sigmoid) and starts at a centred
  window of side ``initial_scale``, not at the identity: a window as large as the input sees the
  whole input, so shifting it changes little and its gradient cannot tell where to look;
- sampling uses PyTorch's ``align_corners=False`` convention and zero padding outside the input;
  the grid and the sampling run in float32 under autocast (fp16/bf16 inputs) and in float64 for
  float64 inputs;
- the gradient reaching the localisation network is scaled by ``gradient_scale`` (0.1 by default;
  the forward pass is unchanged): a lower learning rate for it than for the classifier, as STN
  implementations commonly use; at the classifier's full rate the transforms run off the input
  within a few steps.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checks import check_channels, check_input
from .tap import AttentionMap

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # theta = [[1, 0, 0], [0, 1, 0]]
GRADIENT_SCALE = 0.1  # by default the localisation network learns 10x slower than the classifier
TRANSFORMS = ("affine", "attention")


def localization_network(channels: int, hidden: int, features: int, outputs: int) -> nn.Sequential:
    """For the affine transform: three 3x3 conv-BN-ReLU-maxpool blocks (h, 2h, 2h channels) to a
    4x4 map, then two fully connected layers; the last one starts at zero weights (its bias sets
    the initial transform)."""

    def block(c_in: int, c_out: int, pool: nn.Module) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), pool]

    net = nn.Sequential(
        *block(channels, hidden, nn.MaxPool2d(2, ceil_mode=True)),  # (N, h, H/2, W/2)
        *block(hidden, 2 * hidden, nn.MaxPool2d(2, ceil_mode=True)),  # (N, 2h, H/4, W/4)
        *block(2 * hidden, 2 * hidden, nn.AdaptiveMaxPool2d(4)),  # (N, 2h, 4, 4): keeps where
        nn.Flatten(),  # (N, 32 h)
        nn.Linear(32 * hidden, features),
        nn.ReLU(),
        nn.Linear(features, outputs),
    )
    nn.init.zeros_(net[-1].weight)
    return net


class WindowLocator(nn.Module):
    """For the attention transform: a heat map over the input and the window it implies.

    Two 3x3 conv-BN-ReLU layers (h, 2h channels), a 2x2 max-pool and a dilated 3x3 conv-BN-ReLU
    give features at half the input's resolution; a 1x1 convolution turns them into a heat map,
    whose softmax over positions weighs the positions' coordinates into the window's centre
    (tx, ty); the features' mean, through one linear layer, gives the raw window side. Both
    outputs start at zero weights: a uniform heat map (a centred window) of the initial side.

    Shape: input (N, C, H, W); output (N, 3): raw side, tx, ty (tx, ty in [-1, 1]). The heat
    map's softmax (N, H/2 * W/2) is kept in ``self.heat_map`` only while ``keep_heat`` is set.
    """

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1),
            nn.BatchNorm2d(hidden),
            nn.ReLU(),
            nn.Conv2d(hidden, 2 * hidden, 3, padding=1),
            nn.BatchNorm2d(2 * hidden),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),  # (N, 2h, H/2, W/2)
            nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=2, dilation=2),
            nn.BatchNorm2d(2 * hidden),
            nn.ReLU(),
        )
        self.heat = nn.Conv2d(2 * hidden, 1, 1)  # (N, 1, H/2, W/2)
        self.side = nn.Linear(2 * hidden, 1)
        for layer in (self.heat, self.side):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, z: Tensor) -> Tensor:
        f = self.body(z)  # (N, 2h, h', w')
        weights = self.heat(f).flatten(1).softmax(-1)  # (N, h' w'): where the object is
        h, w = f.shape[2:]
        ys = (torch.arange(h, device=z.device, dtype=weights.dtype) + 0.5) / h * 2 - 1
        xs = (torch.arange(w, device=z.device, dtype=weights.dtype) + 0.5) / w * 2 - 1
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # pixel centres, normalised
        tx = (weights * grid_x.flatten()).sum(-1)  # (N,), the expected position
        ty = (weights * grid_y.flatten()).sum(-1)
        side = self.side(f.mean((2, 3)))[:, 0]  # (N,)
        return torch.stack([side, tx, ty], 1)  # (N, 3)


class SpatialTransformer(nn.Module):
    """Spatial transformer: a localisation network, a grid generator and a bilinear sampler.

    Args:
        channels: number of input channels C (3 in front of the backbone).
        transform: ``"affine"`` (6 parameters, starting at the identity) or ``"attention"``
            (a window: scale s and centre (tx, ty), starting at s = ``initial_scale``).
        output_size: side of the square output (default: the input's own H x W).
        loc_channels: channels h of the localisation network's first convolution (then 2h).
        loc_features: width f of its hidden fully connected layer (affine only).
        loc_size: the localisation network sees the input average-pooled to this side (default:
            the input as it is).
        coordinates: give the localisation network two more input channels, x and y in [-1, 1].
        initial_scale, scale_range: the ``"attention"`` window's starting side and its bounds,
            as fractions of the input's side.
        gradient_scale: multiplies the gradient reaching the localisation network.

    Shape:
        Input (N, C, H, W); output (N, C, H, W), or (N, C, S, S) with ``output_size=S``: the
        input resampled. The transforms theta (N, 2, 3), in normalised coordinates ([-1, 1]
        across the input), pass through ``self.tap``.

    Parameters, with c = C (+ 2 with coordinates): affine, 9 c h + 9 h 2h + 9 (2h)^2 + 5 h
    (convolution biases) + 10 h (BN) + 32 h f + f + 6 f + 6; attention, the same convolutions
    and BNs, then 2h + 1 (heat map) + 2h + 1 (side).
    """

    def __init__(
        self,
        channels: int,
        *,
        transform: str = "affine",
        output_size: int | None = None,
        loc_channels: int = 16,
        loc_features: int = 32,
        loc_size: int | None = None,
        coordinates: bool = False,
        initial_scale: float = 0.5,
        scale_range: tuple[float, float] = (0.2, 0.7),
        gradient_scale: float = GRADIENT_SCALE,
    ) -> None:
        super().__init__()
        check_channels("STN", channels)
        check_channels("STN (loc_channels)", loc_channels)
        check_channels("STN (loc_features)", loc_features)
        if transform not in TRANSFORMS:
            raise ValueError(f"STN: transform must be one of {TRANSFORMS}, got {transform!r}.")
        for name, value in (("output_size", output_size), ("loc_size", loc_size)):
            if value is not None:
                check_channels(f"STN ({name})", value)
        low, high = scale_range
        if transform == "attention" and not 0 < low < initial_scale < high:
            raise ValueError(
                f"STN: the attention window needs 0 < scale_range[0] < initial_scale < "
                f"scale_range[1], got {initial_scale} in {scale_range}."
            )
        if gradient_scale < 0:
            raise ValueError(f"STN: gradient_scale must be >= 0, got {gradient_scale}.")
        self.channels, self.kind, self.output_size = channels, transform, output_size
        self.loc_size, self.coordinates, self.gradient_scale = loc_size, coordinates, gradient_scale
        self.scale_range = scale_range
        c_in = channels + 2 * coordinates
        if transform == "affine":
            self.localization = localization_network(c_in, loc_channels, loc_features, 6)
            with torch.no_grad():  # theta starts at the identity
                self.localization[-1].bias.copy_(torch.tensor(IDENTITY))
        else:
            self.localization = WindowLocator(c_in, loc_channels)
            self.initial_raw = _logit(low, high, initial_scale)  # the side's starting value
        self.tap = AttentionMap("affine")

    def transform(self, x: Tensor) -> Tensor:
        """The transforms theta the localisation network regresses: (N, 2, 3)."""
        z = F.adaptive_avg_pool2d(x, self.loc_size) if self.loc_size else x  # (N, C, h, w)
        if self.coordinates:
            z = torch.cat([z, _coordinates(z)], dim=1)  # (N, C + 2, h, w)
        raw = self.localization(z)  # (N, 6) or (N, 3)
        raw = raw.detach() + self.gradient_scale * (raw - raw.detach())  # same value, scaled grad
        if self.kind == "affine":
            theta = raw.view(-1, 2, 3)  # (N, 2, 3)
        else:
            low, high = self.scale_range
            s = low + (high - low) * torch.sigmoid(raw[:, 0] + self.initial_raw)  # (N,) side
            tx, ty = raw[:, 1], raw[:, 2]  # (N,) its centre: an expected position, on the input
            zero = torch.zeros_like(s)
            theta = torch.stack([torch.stack([s, zero, tx], 1), torch.stack([zero, s, ty], 1)], 1)
        return self.tap(theta)

    def forward(self, x: Tensor) -> Tensor:
        check_input("STN", x, self.channels)
        dtype = torch.promote_types(x.dtype, torch.float32)  # fp16/bf16 -> fp32; fp64 stays
        theta = self.transform(x).to(dtype)  # (N, 2, 3); the grid in fp32 even under autocast
        n, c = x.shape[:2]
        size = [n, c, *((self.output_size,) * 2 if self.output_size else x.shape[2:])]
        grid = F.affine_grid(theta, size, align_corners=False)  # (N, H', W', 2)
        out = F.grid_sample(x.to(dtype), grid, align_corners=False)  # (N, C, H', W')
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        return f"transform={self.kind!r}, output_size={self.output_size}"


def _logit(low: float, high: float, value: float) -> float:
    """The raw output for which the window's side ``low + (high - low) sigmoid(raw)`` is value."""
    q = (value - low) / (high - low)
    return math.log(q / (1 - q))


def _coordinates(x: Tensor) -> Tensor:
    """Two channels holding each position's x and y in [-1, 1]: (N, 2, H, W)."""
    n, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y]).expand(n, 2, h, w)
