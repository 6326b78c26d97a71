"""Harder copies of a dataset for the spatial transformer: images distorted at random, on the
device, fresh for every training batch and fixed (from a seed) for the test set."""

from __future__ import annotations

import numbers
from dataclasses import replace

import torch
from torch import Tensor

from .augment import place_on_canvas, random_affine
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


def on_canvas(
    data: CifarData,
    *,
    size: int = 64,
    object_sizes: tuple[int, int] = (16, 24),
    seed: int = 0,
) -> tuple[CifarData, Tensor]:
    """A cluttered-view copy of ``data``: every image shrunk to ``object_sizes`` pixels and put at
    a random place on a black ``size`` x ``size`` canvas (:func:`place_on_canvas`). Training
    batches get a fresh placement each time (after crop and flip); the test images are placed
    once, from ``seed``, so every model is tested on the same canvases.

    Returns the new data and the test images' placements (N, 3): object centre x, y (normalised
    canvas coordinates) and side (a fraction of the canvas), what a transformer that finds the
    object should recover.

    ``object_sizes`` is any range of whole sides within the canvas (low <= high, both 1 to
    ``size``): (16, 24) by default, wider (10, 40, say) where a window's scale should matter. A
    range outside that is a ``ValueError`` naming it.
    """
    check_object_sizes(object_sizes, size)
    gen = torch.Generator(device=data.device).manual_seed(seed)
    placed = [
        place_on_canvas(batch, size=size, object_sizes=object_sizes, generator=gen)
        for batch in data.test_images.split(1000)
    ]
    test = torch.cat([canvas for canvas, _ in placed])  # uint8 (N, 3, size, size)
    placements = torch.cat([p for _, p in placed])  # (N, 3)

    def transform(x: Tensor, generator: torch.Generator | None) -> Tensor:
        return place_on_canvas(x, size=size, object_sizes=object_sizes, generator=generator)[0]

    lo, hi = object_sizes
    text = (
        f"{data.description}, each image shrunk to {lo}-{hi} px at a random place on a black "
        f"{size}x{size} canvas"
    )
    return replace(data, test_images=test, transform=transform, description=text), placements


def check_object_sizes(object_sizes: tuple[int, int], size: int) -> None:
    """Raise a ``ValueError`` unless ``object_sizes`` is a (low, high) pair of whole pixel sides
    with ``1 <= low <= high <= size``: every object must fit on its ``size`` x ``size`` canvas."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(
            f"on_canvas: size must be a positive whole number of pixels, got {size!r}."
        )
    try:
        lo, hi = object_sizes
    except (TypeError, ValueError):
        raise ValueError(
            f"on_canvas: object_sizes must be a (low, high) pair of pixel sides, got "
            f"{object_sizes!r}."
        ) from None
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in (lo, hi)):
        raise ValueError(f"on_canvas: object_sizes must be whole pixels, got {object_sizes!r}.")
    if not 1 <= lo <= hi:
        raise ValueError(
            f"on_canvas: object_sizes needs 1 <= low <= high, got low {lo} and high {hi}."
        )
    if hi > size:
        raise ValueError(
            f"on_canvas: object_sizes up to {hi} px do not fit on the {size}x{size} canvas "
            f"(high must be <= {size})."
        )
