"""Spatial transformer: the parameter formula, identity and window starts, the warp convention,
the gradient scale, and the harder data (distorted images, objects on a canvas)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attncv import capture, resnet18
from attncv.attention.stn import SpatialTransformer
from attncv.data import synthetic
from attncv.data.augment import place_on_canvas, random_affine
from attncv.data.distorted import distort, on_canvas
from attncv.model import FixedWindow, downscaled_resnet18, glimpse_resnet18, stn_resnet18


def _formula(c: int, h: int, f: int, transform: str) -> int:
    convs = 9 * c * h + 9 * h * 2 * h + 9 * (2 * h) ** 2 + 5 * h + 10 * h  # convolutions, BN
    if transform == "affine":
        return convs + 32 * h * f + f + 6 * f + 6  # the two fully connected layers
    return convs + 2 * h + 1 + 2 * h + 1  # the heat map's 1x1 convolution, the side's layer


@pytest.mark.parametrize(
    ("kwargs", "c", "transform"),
    [
        ({}, 3, "affine"),
        ({"transform": "attention"}, 3, "attention"),
        ({"coordinates": True}, 5, "affine"),
        ({"transform": "attention", "coordinates": True}, 5, "attention"),
    ],
)
def test_parameter_count_matches_the_formula(kwargs, c, transform) -> None:
    module = SpatialTransformer(3, loc_channels=8, loc_features=24, **kwargs)
    assert sum(t.numel() for t in module.parameters()) == _formula(c, 8, 24, transform)


def test_affine_starts_as_the_identity_and_output_equals_input() -> None:
    module = SpatialTransformer(5)
    x = torch.randn(3, 5, 9, 7)
    with capture(module) as maps:
        y = module(x)
    identity = torch.tensor([[1.0, 0, 0], [0, 1, 0]]).expand(3, 2, 3)
    torch.testing.assert_close(maps["tap"], identity)
    torch.testing.assert_close(y, x, atol=1e-5, rtol=1e-5)  # up to interpolation rounding


def test_attention_starts_as_a_centred_window_and_crops_it() -> None:
    """s = 0.5 on an 8x8 input, output 4x4: the centre 4x4 block, read at its pixel centres."""
    module = SpatialTransformer(2, transform="attention", output_size=4, initial_scale=0.5)
    x = torch.randn(2, 2, 8, 8)
    with torch.no_grad(), capture(module) as maps:
        y = module(x)
    window = torch.tensor([[0.5, 0, 0], [0, 0.5, 0]]).expand(2, 2, 3)
    torch.testing.assert_close(maps["tap"], window)
    torch.testing.assert_close(y, x[..., 2:6, 2:6], atol=1e-5, rtol=1e-5)


def test_a_translation_of_one_pixel_moves_the_image() -> None:
    module = SpatialTransformer(2).eval()
    with torch.no_grad():
        module.localization[-1].bias.copy_(torch.tensor([1.0, 0, 2 / 8, 0, 1, 0]))  # x + 1 pixel
    x = torch.randn(1, 2, 6, 8)
    y = module(x)
    torch.testing.assert_close(y[..., :-1], x[..., 1:], atol=1e-5, rtol=1e-5)
    assert y[..., -1].abs().max() < 0.51 * x[..., -1].abs().max() + 1e-6  # half outside: padding


def test_the_window_stays_in_its_bounds_and_on_the_input() -> None:
    module = SpatialTransformer(3, transform="attention", scale_range=(0.2, 0.7))
    with torch.no_grad():
        module.localization.side.bias.fill_(50.0)  # as large as it can be
        module.localization.heat.weight.normal_(std=50.0)  # a peaked heat map, anywhere
        theta = module.transform(torch.randn(2, 3, 16, 16))
    assert theta[0, 0, 0].item() == pytest.approx(0.7) and theta[0, 0, 1] == 0
    assert theta[:, :, 2].abs().max() <= 1.0  # the centre stays on the input


def test_the_window_goes_where_the_heat_map_points() -> None:
    """A heat map peaked at one position of the locator's half-resolution map puts the window's
    centre at that position's centre, in the input's normalised coordinates."""
    module = SpatialTransformer(3, transform="attention", coordinates=True)
    with torch.no_grad():
        module.localization.heat.weight.zero_()
        for layer in module.localization.body:
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.zero_()
                layer.bias.zero_()
        module.localization.body[0].weight[0, 3] = 1.0  # channel 0 copies the x coordinate
        module.localization.body[3].weight[0, 0, 1, 1] = 1.0  # ...through the next layer
        module.localization.body[7].weight[0, 0, 1, 1] = 1.0  # ...and the dilated one
        module.localization.heat.weight[0, 0] = 200.0  # heat rises with x: the right edge
        theta = module.eval().transform(torch.zeros(1, 3, 16, 16))
    assert theta[0, 0, 2].item() == pytest.approx(1 - 1 / 8, abs=1e-3)  # rightmost of 8 columns
    assert theta[0, 1, 2].item() == pytest.approx(0.0, abs=1e-3)  # rows weigh equally


def test_stn_resnet_starts_as_the_baseline() -> None:
    torch.manual_seed(0)
    base = resnet18(10, width=8).eval()
    torch.manual_seed(0)
    model = stn_resnet18(10, width=8).eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model(x), base(x), atol=1e-4, rtol=1e-4)


def test_the_glimpse_and_the_downscale_feed_the_same_resnet() -> None:
    """Both build the ResNet first: same weights after the same seed. The glimpse starts as the
    canvas's centre at native resolution; the plain network sees the whole canvas averaged."""
    torch.manual_seed(0)
    glimpse = glimpse_resnet18(10, width=8, canvas=96).eval()
    torch.manual_seed(0)
    plain = downscaled_resnet18(10, width=8).eval()
    torch.testing.assert_close(glimpse[1].fc.weight, plain[1].fc.weight)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(glimpse[0](x), x[..., 32:64, 32:64], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(plain[0](x), F.avg_pool2d(x, 3))


def test_the_fixed_window_control_reads_the_centre_with_the_same_resnet() -> None:
    """The control of the glimpse: the same ResNet behind a window that never moves."""
    torch.manual_seed(0)
    glimpse = glimpse_resnet18(10, width=8, canvas=96).eval()
    torch.manual_seed(0)
    fixed = glimpse_resnet18(10, width=8, canvas=96, fixed_side=1 / 3).eval()
    torch.testing.assert_close(glimpse[1].fc.weight, fixed[1].fc.weight)
    assert isinstance(fixed[0], FixedWindow) and not list(fixed[0].parameters())
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(fixed[0](x), x[..., 32:64, 32:64], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(fixed[0](x), glimpse[0](x), atol=1e-4, rtol=1e-4)
    corner = FixedWindow(0.5, 32, centre=(-0.5, -0.5))  # the upper-left quarter, pixel for pixel
    y = x[..., :64, :64]
    torch.testing.assert_close(corner(y), y[..., :32, :32], atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="FixedWindow"):
        FixedWindow(0.0)


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="STN"):
        SpatialTransformer(3, loc_channels=0)
    with pytest.raises(ValueError, match="STN"):
        SpatialTransformer(3)(torch.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match="transform must be"):
        SpatialTransformer(3, transform="projective")
    with pytest.raises(ValueError, match="initial_scale"):
        SpatialTransformer(3, transform="attention", initial_scale=0.9, scale_range=(0.2, 0.7))


def test_the_localisation_network_learns_at_a_scaled_rate() -> None:
    torch.manual_seed(0)
    module = SpatialTransformer(3, gradient_scale=0.25)
    x = torch.randn(2, 3, 8, 8)
    module.transform(x).sum().backward()
    scaled = module.localization[-1].bias.grad.clone()
    module.zero_grad()
    module.localization(x).sum().backward()  # no scaling
    torch.testing.assert_close(scaled, 0.25 * module.localization[-1].bias.grad)


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


def test_placements_say_where_the_object_is() -> None:
    """A white image placed on the black canvas: its pixels span exactly the reported side,
    around the reported centre."""
    images = torch.full((6, 3, 32, 32), 200, dtype=torch.uint8)
    gen = torch.Generator().manual_seed(0)
    canvas, placements = place_on_canvas(images, size=96, object_sizes=(16, 24), generator=gen)
    assert canvas.shape == (6, 3, 96, 96) and canvas.dtype == torch.uint8
    for image, (cx, cy, side) in zip(canvas, placements.tolist(), strict=True):
        ys, xs = torch.nonzero(image[0] > 100, as_tuple=True)
        assert 16 <= xs.max() - xs.min() + 1 <= 24 and xs.max() - xs.min() + 1 == round(side * 96)
        assert abs((xs.float().mean().item() + 0.5) / 48 - 1 - cx) < 1e-5
        assert abs((ys.float().mean().item() + 0.5) / 48 - 1 - cy) < 1e-5
    with pytest.raises(ValueError, match="object_sizes"):
        place_on_canvas(images, size=16, object_sizes=(8, 24))


def test_on_canvas_fixes_the_test_set_and_places_every_training_batch_anew() -> None:
    data = synthetic(num_classes=2, train_per_class=8, test_per_class=4)
    first, placements = on_canvas(data, size=64, seed=3)
    again, same = on_canvas(data, size=64, seed=3)
    assert first.test_images.shape == (8, 3, 64, 64) and torch.equal(placements, same)
    assert torch.equal(first.test_images, again.test_images) and "64x64 canvas" in first.description
    batches = [
        next(first.batches("train", 16, generator=torch.Generator().manual_seed(s)))[0]
        for s in (0, 1)
    ]
    assert batches[0].shape == (16, 3, 64, 64) and not torch.equal(*batches)


def test_float64_input_is_sampled_in_float64() -> None:
    """The STN used to cast float64 input to float32 (and back), losing its precision."""
    torch.manual_seed(0)
    stn = SpatialTransformer(3).double()
    torch.nn.init.normal_(stn.localization[-1].weight, std=0.05)  # off the identity
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
