"""Data augmentation on the training device: batches never wait on a CPU loader.

Random crop with 4-pixel zero padding and horizontal flip, as in He et al. (2016) for CIFAR, done
on whole uint8 batches with tensor indexing; then normalisation with the dataset's statistics.
:func:`random_affine` rotates, scales and shifts images at random (for the harder datasets of
:mod:`attncv.data.distorted`), also on the device.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def augment(
    images: Tensor, *, pad: int = 4, flip: bool = True, generator: torch.Generator | None = None
) -> Tensor:
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


def random_affine(
    images: Tensor,
    *,
    rotation: float = 45.0,
    scale: tuple[float, float] = (0.6, 1.0),
    translation: float = 0.2,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Rotate (up to +-``rotation`` degrees), scale the content (by a factor in ``scale``) and shift
    it (up to +-``translation`` of the image size) at random, per image; zero padding outside.

    uint8 or float (N, C, H, W) in, the same dtype out; bilinear sampling on the images' device.
    """
    n, dev = len(images), images.device
    u = torch.rand(n, 4, device=dev, generator=generator)  # (N, 4) in [0, 1)
    angle = math.radians(rotation) * (2 * u[:, 0] - 1)  # (N,)
    zoom = scale[0] + (scale[1] - scale[0]) * u[:, 1]  # content scale
    shift = 2 * translation * (2 * u[:, 2:] - 1)  # (N, 2); the image spans [-1, 1]
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, -shift[:, 0]], 1), torch.stack([sin, cos, -shift[:, 1]], 1)], 1
    )  # (N, 2, 3), output->input
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(images.float(), grid, align_corners=False)
    return out.round().clamp(0, 255).to(images.dtype) if not images.is_floating_point() else out


def place_on_canvas(
    images: Tensor,
    *,
    size: int = 64,
    object_sizes: tuple[int, int] = (16, 24),
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Shrink each image to a random side in ``object_sizes`` (pixels, inclusive) and put it at a
    random place on a black ``size`` x ``size`` canvas, on the images' device.

    uint8 (N, 3, H, W) in; uint8 (N, 3, size, size) out, and the placements (N, 3): the object's
    centre x and y in normalised canvas coordinates ([-1, 1] across the canvas, PyTorch's
    ``align_corners=False`` convention, the one ``affine_grid`` uses) and its side as a fraction
    of the canvas. Sampling is bilinear (one ``grid_sample`` for the whole batch).
    """
    lo, hi = object_sizes
    if not 1 <= lo <= hi <= size:
        raise ValueError(
            f"object_sizes must satisfy 1 <= low <= high <= size={size}, got {object_sizes}."
        )
    n, dev = len(images), images.device
    side = torch.randint(lo, hi + 1, (n,), device=dev, generator=generator).float()  # (N,)
    u = torch.rand(n, 2, device=dev, generator=generator)  # (N, 2)
    corner = (u * (size - side[:, None] + 1)).floor().clamp(max=size - side[:, None])  # pixels
    centre = (2 * corner + side[:, None]) / size - 1  # (N, 2), normalised
    zoom = size / side  # canvas units per image unit
    zero = torch.zeros_like(zoom)
    theta = torch.stack(  # canvas -> image coordinates: (N, 2, 3)
        [
            torch.stack([zoom, zero, -centre[:, 0] * zoom], 1),
            torch.stack([zero, zoom, -centre[:, 1] * zoom], 1),
        ],
        1,
    )
    grid = torch.nn.functional.affine_grid(theta, [n, 3, size, size], align_corners=False)
    out = torch.nn.functional.grid_sample(images.float(), grid, align_corners=False)
    canvas = out.round().clamp(0, 255).to(torch.uint8)  # (N, 3, size, size)
    return canvas, torch.cat([centre, (side / size)[:, None]], 1)
