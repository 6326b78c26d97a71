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
    weights = skv.branch_weights(sk, data, (1.0, 2.0))
    assert set(weights) == {1.0, 2.0}
    assert weights[2.0]["layer2.0"].shape == (32,)
    assert ((weights[1.0]["layer1.0"] > 0) & (weights[1.0]["layer1.0"] < 1)).all()
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
    def weights(shift: float) -> dict[float, dict[str, torch.Tensor]]:
        up = torch.linspace(-0.01, 0.01, 16) + shift  # (C,), spread +-0.01 around the shift
        return {
            1.0: {b: torch.full((16,), 0.5) for b in ("layer1.0", "layer2.0", "layer4.0")},
            2.0: {
                "layer1.0": 0.5 + up,
                "layer2.0": 0.5 + up,
                "layer4.0": torch.full((16,), 0.5),
            },
        }

    control = weights(0.0)  # before training: no shift on average
    for shift, expected in {0.02: True, 0.001: None, -0.02: False}.items():
        v = skv.sk_verdict(weights(shift), control)
        assert v.holds is expected and "Li et al. 2019" in v.paper
        assert f"{shift:+.4f} in layer1 and layer2 (mean over 32 channels" in v.run
        assert "+0.0000 before training" in v.run and "+0.0000 in layer4" in v.run
        (e,) = v.evidence
        assert e.band_how == ew.band_how(32, "channels", paired=False) and 0 < e.band < 0.01
        assert e.control_label == ew.UNTRAINED
        assert all(len(line) <= 90 for line in str(v).splitlines())
    torch.testing.assert_close(
        skv.scale_shift(weights(0.02), 1.0, 2.0, ["layer4"]), torch.zeros(16)
    )
