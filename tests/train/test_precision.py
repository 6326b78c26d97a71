"""Autocast precision: bf16 where the hardware has it, fp16 with loss scaling elsewhere."""

from __future__ import annotations

import pytest
import torch

from attncv.data import synthetic
from attncv.model import resnet18
from attncv.train import TrainConfig, fit, set_seed
from attncv.train.precision import amp_dtype, label, scaler


@pytest.mark.parametrize(
    ("capability", "expected"),
    [((7, 5), torch.float16), ((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16)],
)
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
        "fp16",
        "bf16",
        "fp32",
    )


def test_the_scaler_is_active_for_fp16_only() -> None:
    assert scaler("cpu", torch.float16, True).is_enabled()
    assert not scaler("cpu", torch.bfloat16, True).is_enabled()
    assert not scaler("cpu", torch.float16, False).is_enabled()


@pytest.mark.parametrize(("choice", "scaled"), [("fp16", True), ("bf16", False)])
def test_fit_scales_the_loss_under_fp16_only(monkeypatch, choice: str, scaled: bool) -> None:
    """fit() itself (not a hand-built Step) sends every fp16 step through the GradScaler: the
    loss is scaled and the update goes through scaler.step; bf16 needs neither. The loss falls."""
    calls = {"scale": 0, "step": 0}
    real_scale, real_step = torch.amp.GradScaler.scale, torch.amp.GradScaler.step

    def scale(self, outputs):
        calls["scale"] += self.is_enabled()
        return real_scale(self, outputs)

    def step(self, optimizer, *args, **kwargs):
        calls["step"] += self.is_enabled()
        return real_step(self, optimizer, *args, **kwargs)

    monkeypatch.setattr(torch.amp.GradScaler, "scale", scale)
    monkeypatch.setattr(torch.amp.GradScaler, "step", step)
    data = synthetic(num_classes=4, train_per_class=16, test_per_class=4)
    cfg = TrainConfig(
        epochs=2, batch_size=16, lr=0.05, warmup_epochs=0.5, amp=True, amp_dtype=choice
    )
    set_seed(0)
    result = fit(resnet18(4, width=4), data, cfg, progress=False)
    steps = 2 * (64 // 16)
    assert calls == ({"scale": steps, "step": steps} if scaled else {"scale": 0, "step": 0})
    losses = result.curve("train_loss")
    assert all(map(torch.isfinite, map(torch.tensor, losses))) and losses[-1] < losses[0]
    assert result.config["amp_dtype"] == choice
