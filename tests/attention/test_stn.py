"""Spatial transformer: identity at initialisation, the warp convention, the harder data."""

from __future__ import annotations

import pytest
import torch

from attncv import capture, resnet18
from attncv.attention.stn import SpatialTransformer
from attncv.data import synthetic
from attncv.data.augment import random_affine
from attncv.data.distorted import distort
from attncv.model import stn_resnet18


def test_parameter_count_matches_the_formula() -> None:
    c, h, f = 3, 16, 32
    expected = 25 * c * h + h + 25 * h * h + h + 16 * h * f + f + 6 * f + 6
    assert sum(p.numel() for p in SpatialTransformer(c).parameters()) == expected


def test_affine_starts_as_the_identity_and_output_equals_input() -> None:
    module = SpatialTransformer(5)
    x = torch.randn(3, 5, 9, 7)
    with capture(module) as maps:
        y = module(x)
    identity = torch.tensor([[1.0, 0, 0], [0, 1, 0]]).expand(3, 2, 3)
    torch.testing.assert_close(maps["tap"], identity)
    torch.testing.assert_close(y, x, atol=1e-5, rtol=1e-5)  # up to interpolation rounding


def test_a_translation_of_one_pixel_moves_the_image() -> None:
    module = SpatialTransformer(2).eval()
    with torch.no_grad():
        module.regressor[2].bias.copy_(torch.tensor([1.0, 0, 2 / 8, 0, 1, 0]))  # x + 1 pixel
    x = torch.randn(1, 2, 6, 8)
    y = module(x)
    torch.testing.assert_close(y[..., :-1], x[..., 1:], atol=1e-5, rtol=1e-5)
    assert y[..., -1].abs().max() < 0.51 * x[..., -1].abs().max() + 1e-6  # half outside: padding


def test_stn_resnet_starts_as_the_baseline() -> None:
    torch.manual_seed(0)
    base = resnet18(10, width=8).eval()
    torch.manual_seed(0)
    model = stn_resnet18(10, width=8).eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model(x), base(x), atol=1e-4, rtol=1e-4)


def test_bad_sizes_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="STN"):
        SpatialTransformer(3, loc_channels=0)
    with pytest.raises(ValueError, match="STN"):
        SpatialTransformer(3)(torch.randn(1, 4, 8, 8))


def test_random_affine_without_range_is_the_identity() -> None:
    images = torch.randint(0, 256, (4, 3, 12, 10), dtype=torch.uint8)
    same = random_affine(images, rotation=0, scale=(1, 1), translation=0)
    assert same.dtype == torch.uint8 and torch.equal(same, images)
    moved = random_affine(images, generator=torch.Generator().manual_seed(0))
    assert moved.shape == images.shape and not torch.equal(moved, images)


def test_distort_fixes_the_test_set_and_warps_every_training_batch() -> None:
    data = synthetic(num_classes=2, train_per_class=8, test_per_class=4)
    hard, again = distort(data, seed=1), distort(data, seed=1)
    assert torch.equal(hard.test_images, again.test_images)
    assert not torch.equal(hard.test_images, data.test_images)
    assert "distorted" in hard.description
    gen = lambda: torch.Generator().manual_seed(0)
    plain = next(data.batches("train", 16, generator=gen()))[0]
    warped = next(hard.batches("train", 16, generator=gen()))[0]
    assert warped.shape == plain.shape and not torch.equal(warped, plain)


def test_the_localisation_network_learns_at_a_tenth_of_the_rate() -> None:
    torch.manual_seed(0)
    module = SpatialTransformer(3)
    x = torch.randn(2, 3, 8, 8)
    module.transform(x).sum().backward()
    scaled = module.regressor[2].bias.grad.clone()
    module.zero_grad()
    module.regressor(module.localization(x).flatten(1)).sum().backward()  # no scaling
    torch.testing.assert_close(scaled, 0.1 * module.regressor[2].bias.grad)


def test_float64_input_is_sampled_in_float64() -> None:
    """The STN used to cast float64 input to float32 (and back), losing its precision."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    stn = SpatialTransformer(3).double()
    torch.nn.init.normal_(stn.regressor[2].weight, std=0.05)  # off the identity
    x = torch.rand(2, 3, 9, 11, dtype=torch.float64)
    out = stn(x)
    theta = stn.transform(x)
    expected = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False))
    assert out.dtype == theta.dtype == torch.float64
    assert (out - expected).abs().max() < 1e-12  # float32 sampling is off by ~1e-7


def test_half_precision_input_keeps_its_dtype() -> None:
    stn = SpatialTransformer(3)
    x = torch.rand(2, 3, 8, 8).to(torch.bfloat16)
    assert stn.to(torch.bfloat16)(x).dtype == torch.bfloat16
