"""Harder copies of a dataset for the spatial transformer: images distorted at random, on the
device, fresh for every training batch and fixed (from a seed) for the test set."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from .augment import random_affine
from .dataset import CifarData


def distort(
    data: CifarData,
    *,
    rotation: float = 45.0,
    scale: tuple[float, float] = (0.6, 1.0),
    translation: float = 0.2,
    seed: int = 0,
) -> CifarData:
    """A harder copy of ``data``: training batches get a fresh :func:`random_affine` each time
    (on the device, after crop and flip); the test images are distorted once, from ``seed``, so
    every model is tested on the same images. The description says so."""
    kwargs = {"rotation": rotation, "scale": scale, "translation": translation}
    gen = torch.Generator(device=data.device).manual_seed(seed)
    test = torch.cat(
        [random_affine(b, generator=gen, **kwargs) for b in data.test_images.split(1000)]
    )  # uint8 (N, 3, 32, 32)

    def transform(x: Tensor, generator: torch.Generator | None) -> Tensor:
        return random_affine(x, generator=generator, **kwargs)

    text = (
        f"{data.description}, distorted (rotation +-{rotation:g} deg, scale {scale[0]:g}-"
        f"{scale[1]:g}, shift +-{translation:.0%})"
    )
    return replace(data, test_images=test, transform=transform, description=text)
