"""Capturing attention maps: every tap, the right shapes, nothing left behind."""

from __future__ import annotations

import pytest
import torch

from attncv.attention import capture, taps
from attncv.model import resnet18


def test_capture_returns_every_gate_and_removes_its_hooks() -> None:
    model = resnet18(10, attention="se", width=16).eval()
    x = torch.randn(3, 3, 32, 32)
    with capture(model) as maps:
        model(x)
        model(x[:2])  # a second pass concatenates along the batch
    assert len(maps) == 8  # one SE per block
    gate = maps["layer4.1.attention.tap"]
    assert gate.shape == (5, 128, 1, 1)
    assert ((gate > 0) & (gate < 1)).all()
    assert all(not m._forward_hooks for m in taps(model).values())


def test_capture_by_kind() -> None:
    model = resnet18(10, attention="se", width=16)
    assert len(taps(model, "channel")) == 8 and not taps(model, "spatial")
    with pytest.raises(ValueError, match="spatial"):
        with capture(model, "spatial"):
            pass


def test_model_without_attention_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no AttentionMap"):
        with capture(resnet18(10, width=8)):
            pass
