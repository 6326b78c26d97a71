"""The SK chapter's probe task: training images whose objects are rescaled at random.

CIFAR's objects all fill the frame at about the same size; :func:`scale_probe` builds the data
on which SK's selection can learn to follow an object's size (the figures and the verdict are
in :mod:`attncv.views.sk`).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from ..data import CifarData, load_cifar
from ..data.augment import random_affine
from .profiles import Profile


def scale_probe(
    profile: Profile, *, scale: tuple[float, float] = (0.5, 2.0), longer: bool | None = None
) -> tuple[CifarData, dict[str, int]]:
    """The SK chapter's probe task: training images whose content is rescaled at random by a
    factor in ``scale`` each time they are drawn (after crop and flip; black outside the image
    when it shrinks), the test images left as they are. CIFAR's objects all fill the frame at about
    the same size, so a network trained on them has little reason to adapt its receptive field to
    size; the paper's ImageNet training crops random-size regions, so its networks see objects at
    many scales. Returns the data and the training overrides for :func:`attncv.train_model`: on
    a CPU's brief profile the whole offline subset (10,000 training images) and 10 epochs, about
    4 minutes for SK on 2 cores; elsewhere the profile's own sizes. ``longer=False`` keeps the
    profile's own sizes everywhere (the SK chapter's run, which must fit its five minutes)."""
    longer = profile.brief_on_cpu if longer is None else longer and profile.brief_on_cpu
    sizes = {"train_size": 10_000, "test_size": None} if longer else {}
    data = load_cifar(**{**profile.data_kwargs(), **sizes})
    low, high = scale

    def rescale(images: Tensor, generator: torch.Generator | None) -> Tensor:
        return random_affine(
            images, rotation=0.0, scale=scale, translation=0.0, generator=generator
        )

    text = f"{data.description}, training images rescaled at random (x{low:g} to x{high:g})"
    return replace(data, transform=rescale, description=text), ({"epochs": 10} if longer else {})
