"""views.sk: zoom, SK's branch weights, the SK figures and the SK verdict."""

from __future__ import annotations

import matplotlib
import pytest
import torch

from attncv.data import synthetic
from attncv.model import resnet18
from attncv.views import evidence_words as ew
from attncv.views import sk as skv

matplotlib.use("Agg")


def test_zoom_is_a_centre_crop_resized() -> None:
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    assert torch.equal(skv.zoom(images, 1.0), images)
    big = skv.zoom(images, 2.0)
    assert big.shape == images.shape and big.dtype == torch.uint8
    centre = images[..., 8:24, 8:24].float()  # the middle 16x16, enlarged twice
    expected = torch.nn.functional.interpolate(
        centre, scale_factor=2, mode="bilinear", antialias=True
    )
    assert (big.float() - expected).abs().max() <= 0.5 + 1e-4
    with pytest.raises(ValueError, match="zoom factor"):
        skv.zoom(images, -1)


@pytest.fixture(scope="module")
def data():
    return synthetic(num_classes=3, train_per_class=2, test_per_class=4)


def test_branch_weights(data) -> None:
    torch.manual_seed(0)
    sk = resnet18(data.num_classes, attention="sk", width=16)
    canvases = skv.size_canvases(data.split("test")[0], (16, 28))
    assert set(canvases) == {16, 28} and canvases[16].shape == (12, 3, 32, 32)
    weights = skv.branch_weights(sk, data, canvases)
    assert set(weights) == {16, 28}
    assert weights[28]["layer2.0"].shape == (12, 32)  # (N, C)
    assert ((weights[16]["layer1.0"] > 0) & (weights[16]["layer1.0"] < 1)).all()
    shares = skv.dilated_share(weights)
    assert shares[16].shape == (12,)
    expected = torch.cat([weights[16]["layer1.0"], weights[16]["layer1.1"]], 1)
    expected = torch.cat([expected, weights[16]["layer2.0"], weights[16]["layer2.1"]], 1).mean(1)
    torch.testing.assert_close(shares[16], expected)
    with pytest.raises(ValueError, match="no block"):
        skv.dilated_share(weights, ["layer9"])
    with pytest.raises(ValueError, match="sides"):
        skv.size_canvases(data.split("test")[0], (40,))
    skv.branch_plot(weights, "layer2.0")
    assert len(skv.zoom_grid(data.split("test")[0][:2]).axes) == 6


def test_zoom_out_shrinks_onto_a_black_canvas() -> None:
    images = torch.full((2, 3, 32, 32), 200, dtype=torch.uint8)
    small = skv.zoom(images, 0.5)
    assert small.shape == images.shape and small.dtype == torch.uint8
    assert (small[..., 8:24, 8:24] == 200).all()  # the image, 16x16, in the middle
    assert small[..., :8, :].eq(0).all() and small[..., :, 24:].eq(0).all()
    with pytest.raises(ValueError, match="zoom factor"):
        skv.zoom(images, 0)


def test_sk_verdict() -> None:
    gen = torch.Generator().manual_seed(0)

    def shares(shift: float) -> dict[int, torch.Tensor]:
        small = 0.5 + 0.01 * torch.randn(300, generator=gen)  # (N,)
        return {16: small, 28: small + shift + 0.01 * torch.randn(300, generator=gen)}

    redrawn = [shares(0.0) for _ in range(5)]  # re-drawn gates: no shift on average
    for shift, expected in {0.02: True, 0.0: None, -0.02: False}.items():
        v = skv.sk_verdict(shares(shift), redrawn, last=shares(0.0))
        assert v.holds is expected and "Li et al. 2019" in v.paper
        assert "in layer1 and layer2 changes by" in v.run and "in the last stage" in v.run
        (e,) = v.evidence
        assert e.control_label == ew.drawn(ew.REDRAWN_GATES, 5)
        assert "5 draws" in e.band_how and 0 < e.band < 0.01
        assert "this one trained network" in v.finding
        assert all(len(line) <= 90 for line in str(v).splitlines())
    assert "these 2 trained networks" in skv.sk_verdict(shares(0.1), redrawn, seeds=2).finding
    with pytest.raises(ValueError, match="two re-drawn"):
        skv.sk_verdict(shares(0.0), redrawn[:1])
    with pytest.raises(ValueError, match="sides 16 and 32"):
        skv.sk_verdict(shares(0.0), redrawn, large=32)
