"""The glimpse's re-drawn localisation networks: only the localisation network changes, each draw
differs, and the heat map's sharpness and the side's mean and spread match the trained ones."""

from __future__ import annotations

import pytest
import torch

from attncv.data import synthetic
from attncv.data.distorted import on_canvas
from attncv.model import downscaled_resnet18, glimpse_resnet18
from attncv.train.stn_controls import (
    locator_scales,
    redrawn_locators,
    redrawn_windows,
    window_transformer,
)


@pytest.fixture(scope="module")
def task():
    data, _ = on_canvas(synthetic(num_classes=2, train_per_class=16, test_per_class=16), size=64)
    torch.manual_seed(0)
    model = glimpse_resnet18(2, width=4, canvas=64)
    stn = window_transformer(model)
    with torch.no_grad():  # a "trained" locator: read-outs away from their zero start
        stn.localization.heat.weight.normal_(0, 0.5)
        stn.localization.side.weight.normal_(0, 0.5)
        stn.localization.side.bias.fill_(0.3)
    return data, model, data.normalize(data.test_images)


def test_draws_match_the_trained_scales_and_differ(task) -> None:
    data, model, canvases = task
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.random.get_rng_state()
    draws = redrawn_locators(model, data, canvases, draws=3, calibrate=16)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global state is left as it was
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched
    target = locator_scales(window_transformer(model), canvases)
    thetas = []
    for stn in draws:
        assert not stn.training and stn is not window_transformer(model)
        assert locator_scales(stn, canvases) == pytest.approx(target, rel=1e-4)
        with torch.no_grad():
            thetas.append(stn.transform(canvases))
    assert not torch.allclose(thetas[0], thetas[1])  # each draw its own
    again = redrawn_locators(model, data, canvases, draws=3, calibrate=16)
    with torch.no_grad():
        assert torch.allclose(again[0].transform(canvases), thetas[0])  # seeded


def test_refuses_a_model_without_a_window_and_too_few_draws(task) -> None:
    data, model, canvases = task
    with pytest.raises(ValueError, match="no spatial transformer with a window"):
        redrawn_locators(downscaled_resnet18(2, width=4), data, canvases)
    with pytest.raises(ValueError, match="draws must be an integer >= 2"):
        redrawn_locators(model, data, canvases, draws=1)


def test_the_windows_are_what_the_matched_draws_choose(task) -> None:
    data, model, canvases = task
    windows = redrawn_windows(model, data, canvases, draws=2, calibrate=16)
    for stn, theta in zip(
        redrawn_locators(model, data, canvases, draws=2, calibrate=16), windows, strict=True
    ):
        with torch.no_grad():
            assert torch.allclose(stn.transform(canvases), theta, atol=1e-5)
