"""Autocast precision: bf16 where the hardware has it, fp16 with loss scaling elsewhere."""

from __future__ import annotations

import pytest
import torch

from attncv.backbone import resnet18
from attncv.data import synthetic
from attncv.precision import amp_dtype, label, scaler
from attncv.train import Step, TrainConfig, fit, set_seed


@pytest.mark.parametrize(("capability", "expected"),
                         [((7, 5), torch.float16), ((8, 0), torch.bfloat16),
                          ((9, 0), torch.bfloat16)])
def test_gpus_without_bf16_get_fp16(monkeypatch, capability, expected) -> None:
    """A T4 (7.5) emulates bf16 slowly, so it gets fp16; A100 (8.0) and H100 (9.0) get bf16."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert amp_dtype("cuda:0") == expected


def test_cpu_and_explicit_choices() -> None:
    assert amp_dtype("cpu") == torch.bfloat16
    assert amp_dtype("cpu", "fp16") == torch.float16
    with pytest.raises(ValueError, match="bf16"):
        amp_dtype("cpu", "fp8")
    with pytest.raises(ValueError, match="amp_dtype"):
        TrainConfig(amp_dtype="half")
    assert (label(torch.float16), label(torch.bfloat16), label(torch.bfloat16, False)) == (
        "fp16", "bf16", "fp32")


def test_the_scaler_is_active_for_fp16_only() -> None:
    assert scaler("cpu", torch.float16, True).is_enabled()
    assert not scaler("cpu", torch.bfloat16, True).is_enabled()
    assert not scaler("cpu", torch.float16, False).is_enabled()


def test_fp16_steps_scale_the_loss_and_still_learn() -> None:
    """The fp16 path (a T4's) trains through the GradScaler: the scale is live, the loss falls."""
    data = synthetic(train_per_class=16, test_per_class=4)
    set_seed(0)
    model = resnet18(10, width=8)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, warmup_epochs=1, amp=True,
                      amp_dtype="fp16")
    step = Step(model, cfg, amp=True, dtype=torch.float16)
    assert step.scaler.is_enabled() and step.scaler.get_scale() == 2.0**16
    set_seed(0)
    result = fit(resnet18(10, width=8), data, cfg, progress=False)
    losses = result.curve("train_loss")
    assert all(map(torch.isfinite, map(torch.tensor, losses)))
    assert losses[-1] < losses[0]
    assert result.config["amp_dtype"] == "fp16"
