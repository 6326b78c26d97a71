"""Training speed: a throughput measurement that really trains."""

from __future__ import annotations

import torch

from attncv.model import resnet18
from attncv.train.speed import throughput


def test_throughput_measures_and_trains() -> None:
    model = resnet18(10, width=8)
    before = model.fc.weight.detach().clone()
    t = throughput(model, batch_size=4, steps=2, warmup=1, device="cpu")
    assert t.train > 0 and t.infer > 0 and t.device.startswith("CPU") and not t.amp
    assert not torch.equal(before, model.fc.weight)
