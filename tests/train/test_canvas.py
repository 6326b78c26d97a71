"""Training on a canvas with the object at a known place (attncv.train.canvas)."""

import pytest
import torch

from attncv.data import synthetic
from attncv.train import canvas as cv
from attncv.train import get_profile
from attncv.views import objects


@pytest.fixture(scope="module")
def canvas():
    return cv.canvas_task(synthetic(num_classes=3, train_per_class=4, test_per_class=4))


def test_canvas_epochs_shrink_only_a_cpu_brief_run() -> None:
    assert cv.canvas_epochs(get_profile("brief", "cpu")) == cv.CPU_EPOCHS
    gpu = get_profile("brief", "cuda")
    assert cv.canvas_epochs(gpu) == gpu.train.epochs
    smoke = get_profile("smoke", "cpu")
    assert cv.canvas_epochs(smoke) == smoke.train.epochs


def test_untrained_on_canvas_is_the_start_of_train_on_canvas_calibrated_on_canvases(
    canvas,
) -> None:
    data, placements = canvas
    prof = get_profile("smoke", "cpu")
    assert tuple(data.test_images.shape[2:]) == (64, 64) and placements.shape[1] == 3
    start = cv.canvas_network("cbam", data, prof)
    control = cv.untrained_on_canvas("cbam", data, prof)
    assert not control.training
    for p, q in zip(start.parameters(), control.parameters(), strict=True):
        assert torch.equal(p, q)  # the same untrained weights
    bn = control[1].stem[1]
    assert bn.running_mean.abs().sum() > 0  # measured on data
    from dataclasses import replace

    from attncv.train.controls import calibrated

    unplaced = calibrated(cv.canvas_network("cbam", data, prof), replace(data, transform=None))
    assert not torch.allclose(bn.running_mean, unplaced[1].stem[1].running_mean)  # on canvases
    gates = objects.canvas_taps(control, data, "spatial", images=5)
    assert "layer1.0.spatial_tap" in gates and gates["layer1.0.spatial_tap"].shape[0] == 5
    assert gates["layer1.0.spatial_tap"].shape[-2:] == (32, 32)  # the downscaled canvas
    with pytest.raises(ValueError, match="no tap at 'layer9'"):
        objects.tap_at(gates, "layer9")


def test_train_on_canvas_learns(canvas) -> None:
    data, _ = canvas
    prof = get_profile("smoke", "cpu")
    model, result = cv.train_on_canvas("coordinate_attention", data, prof)
    assert result.name == "Coordinate attention on canvases"
    assert len(result.curve("train_loss")) == cv.canvas_epochs(prof)
    assert model(data.normalize(data.test_images[:2])).shape == (2, data.num_classes)
