"""Cost measurements: MACs against the formula, throughput that measures something."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.attention.danet import DANet
from attncv.attention.self_attention import SelfAttention
from attncv.backbone import resnet18
from attncv.cost import count_macs, count_params, throughput


def test_macs_of_a_convolution_match_the_formula() -> None:
    conv = nn.Conv2d(8, 16, 3, padding=1, bias=False)
    assert count_macs(conv, (1, 8, 10, 12)) == 16 * 8 * 9 * 10 * 12


def test_resnet18_macs_are_the_known_0_56_g() -> None:
    assert 0.55e9 < count_macs(resnet18(100)) < 0.56e9


@pytest.mark.parametrize("module", [SelfAttention, DANet])
def test_fused_attention_is_counted_at_its_own_widths_not_the_padded_ones(module: type) -> None:
    """The fused path pads C/8-wide queries to C for FlashAttention; the count must not see it."""
    c, h, w = 64, 8, 8
    fused, ref = module(c), module(c, fused=False)
    assert count_macs(fused, (1, c, h, w)) == count_macs(ref, (1, c, h, w))
    # the attention itself: q k^T (HW x HW x C/8) plus weights @ v (HW x HW x C)
    convs = h * w * (2 * c * c // 8 + c * c)
    assert count_macs(SelfAttention(c), (1, c, h, w)) == convs + (h * w) ** 2 * (c // 8 + c)


def test_count_params_can_skip_frozen() -> None:
    layer = nn.Linear(4, 3)
    layer.bias.requires_grad_(False)
    assert count_params(layer) == 12 and count_params(layer, trainable_only=False) == 15


def test_throughput_measures_and_trains() -> None:
    model = resnet18(10, width=8)
    before = model.fc.weight.detach().clone()
    t = throughput(model, batch_size=4, steps=2, warmup=1, device="cpu")
    assert t.train > 0 and t.infer > 0 and t.device == "CPU" and not t.amp
    assert not torch.equal(before, model.fc.weight)
