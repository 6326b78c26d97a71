"""The spatial transformer (STN).

Paper: Max Jaderberg, Karen Simonyan, Andrew Zisserman, Koray Kavukcuoglu. *Spatial Transformer
Networks*. NeurIPS 2015. https://arxiv.org/abs/1506.02025

Idea: a small localisation network looks at the input and regresses the six numbers of a 2x3
affine matrix theta; a grid generator (``affine_grid``) maps every output pixel to a point of the
input and a bilinear sampler (``grid_sample``) reads it there. Attention as *where to look*, by
warping: the network learns to undo translations, rotations and zooms. theta starts at the identity,
so the module starts by passing its input through.

Deviations from the paper:
- the localisation network is one fixed design for any input (two 5x5 convolutions with ReLU, a
  2x2 max-pool, an adaptive max-pool to a 4x4 grid, two fully connected layers); the paper sizes
  it per experiment;
- sampling uses PyTorch's ``align_corners=False`` convention and zero padding outside the input;
  the grid and the sampling run in float32 under autocast (fp16/bf16 inputs) and in float64 for
  float64 inputs;
- the gradient reaching the localisation network is scaled by 0.1 (the forward pass is unchanged):
  a 10x lower learning rate for it, as STN implementations commonly use; at the classifier's full
  rate the transforms run off the image within a few steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checks import check_channels, check_input
from .tap import AttentionMap

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # theta = [[1, 0, 0], [0, 1, 0]]
GRADIENT_SCALE = 0.1  # the localisation network learns 10x slower than the classifier


class SpatialTransformer(nn.Module):
    """Spatial transformer with an affine transform, initialised to the identity.

    Args:
        channels: number of input channels C (3 in front of the backbone).
        loc_channels: channels h of the localisation network's convolutions.
        loc_features: width f of its hidden fully connected layer.

    Shape:
        Input (N, C, H, W); output (N, C, H, W), the input resampled. The transforms theta
        (N, 2, 3), in normalised coordinates ([-1, 1] across the image), pass through ``self.tap``.

    Parameters: 25 C h + h + 25 h^2 + h (convolutions), 16 h f + f + 6 f + 6 (fully connected).
    """

    def __init__(self, channels: int, *, loc_channels: int = 16, loc_features: int = 32) -> None:
        super().__init__()
        check_channels("STN", channels)
        check_channels("STN (loc_channels)", loc_channels)
        check_channels("STN (loc_features)", loc_features)
        self.channels = channels
        self.localization = nn.Sequential(
            nn.Conv2d(channels, loc_channels, 5, padding=2),  # (N, h, H, W)
            nn.MaxPool2d(2, ceil_mode=True),  # (N, h, H/2, W/2)
            nn.ReLU(),
            nn.Conv2d(loc_channels, loc_channels, 5, padding=2),
            nn.AdaptiveMaxPool2d(4),  # (N, h, 4, 4) for any input size
            nn.ReLU(),
        )
        self.regressor = nn.Sequential(
            nn.Linear(16 * loc_channels, loc_features), nn.ReLU(), nn.Linear(loc_features, 6)
        )
        nn.init.zeros_(self.regressor[2].weight)  # theta = bias = identity at initialisation
        with torch.no_grad():
            self.regressor[2].bias.copy_(torch.tensor(IDENTITY))
        self.tap = AttentionMap("affine")

    def transform(self, x: Tensor) -> Tensor:
        """The affine transforms theta the localisation network regresses: (N, 2, 3)."""
        features = self.localization(x).flatten(1)  # (N, 16 h)
        theta = self.regressor(features).view(-1, 2, 3)  # (N, 2, 3)
        theta = theta.detach() + GRADIENT_SCALE * (theta - theta.detach())  # same value, 1/10 grad
        return self.tap(theta)

    def forward(self, x: Tensor) -> Tensor:
        check_input("STN", x, self.channels)
        dtype = torch.promote_types(x.dtype, torch.float32)  # fp16/bf16 -> fp32; fp64 stays
        theta = self.transform(x).to(dtype)  # (N, 2, 3); the grid in fp32 even under autocast
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, H, W, 2)
        out = F.grid_sample(x.to(dtype), grid, align_corners=False)  # (N, C, H, W)
        return out.to(x.dtype)
