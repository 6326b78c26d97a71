"""train.scale_probe: the SK chapter's training data with objects rescaled at random."""

from __future__ import annotations

import torch

from attncv.train import get_profile
from attncv.train.scale_probe import scale_probe


def test_scale_probe() -> None:
    data, longer = scale_probe(get_profile("smoke", "cpu"))
    assert longer == {} and "rescaled at random" in data.description
    x = data.train_images[:4]
    out = data.transform(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.uint8
    assert torch.equal(data.test_images, scale_probe(get_profile("smoke", "cpu"))[0].test_images)


def test_scale_probe_keeps_the_profile_sizes_when_asked() -> None:
    """The SK chapter's own run: the profile's sizes and epochs, even on a CPU's brief run."""
    brief = get_profile("brief", "cpu")
    data, longer = scale_probe(brief, longer=False)
    assert longer == {} and len(data.train_labels) <= brief.data_kwargs().get("train_size", 10**9)
