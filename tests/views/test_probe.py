"""Per-class statistics of attention weights (attncv.views.probe)."""

import pytest
import torch

from attncv.views.probe import class_spread, module_input, short_blocks, spread_resamples
from attncv.views.verdicts import half_interval


def test_spread_resamples_ends_with_the_class_spread_of_all_images_and_pairs_the_resamples():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(60) % 3
    gates = torch.rand(60, 5, 1, 1, generator=g) + labels[:, None, None, None] * 0.1
    s = spread_resamples({"a": gates, "b": gates.clone()}, labels, 3, resamples=50, seed=1)
    assert s["a"].shape == (51,)
    means = torch.stack([gates.flatten(1)[labels == k].mean(0) for k in range(3)])  # (K, C)
    assert s["a"][-1].item() == pytest.approx(class_spread({"x": means})["x"])
    assert torch.equal(s["a"], s["b"])  # the same resamples for every entry
    assert s["a"][:-1].std() > 0  # the resamples differ from each other
    flat = spread_resamples({"a": torch.ones(60, 5)}, labels, 3, resamples=10)["a"]
    assert torch.allclose(flat, torch.zeros(11, dtype=torch.float64))  # no class effect: 0


def test_half_interval_is_half_the_central_95_percent() -> None:
    values = torch.arange(1001, dtype=torch.float64)  # 0 .. 1000: 2.5% at 25, 97.5% at 975
    assert half_interval(values) == pytest.approx(475.0)
    assert half_interval(torch.full((10,), 3.0)) == 0


def test_module_input_is_what_the_module_receives() -> None:
    import attncv

    model = attncv.resnet18(10, attention="ccnet", width=16).train()
    x = module_input(model, model.layer2[1].after, torch.randn(2, 3, 32, 32))
    assert x.shape == (2, 32, 16, 16) and model.training


def test_short_blocks_drop_the_layer_prefix() -> None:
    assert short_blocks(["layer2.1", "layer4.0"]) == ["2.1", "4.0"]
