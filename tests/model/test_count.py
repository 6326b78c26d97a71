"""What a model is made of: MACs against the formula, parameters, the activations training keeps."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attncv.attention.danet import DANet
from attncv.attention.self_attention import SelfAttention
from attncv.model import activation_memory, count_macs, count_params, resnet18, saved_bytes


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


def test_saved_bytes_counts_what_autograd_keeps() -> None:
    x = torch.randn(1000, requires_grad=True)
    assert saved_bytes(lambda: x.exp()) == 4000  # exp saves its output
    assert saved_bytes(lambda: x + 1) == 0  # addition saves nothing


def test_activation_memory_is_per_image_and_matches_a_hand_count() -> None:
    """A conv and a ReLU: the conv saves its input (and its weight, left out), the ReLU its
    output."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU())
    per_image = (3 * 32 * 32 + 4 * 32 * 32) * 4 / 2**20
    for batch in (2, 8):
        assert activation_memory(model, batch_size=batch) == pytest.approx(per_image)
    x = torch.randn(2, 3, 32, 32)
    weight = 4 * 3 * 9 * 4
    assert saved_bytes(lambda: model(x)) == 2 * per_image * 2**20 + weight


def test_quadratic_attention_shows_in_the_activation_memory() -> None:
    """Self-attention's reference path stores (HW)^2 weights per image; the fused path does not."""

    def net(attention=None):
        return resnet18(10, width=8, attention=attention)

    base = activation_memory(net())
    ref = activation_memory(net(lambda c: SelfAttention(c, fused=False)))
    fused = activation_memory(net(SelfAttention))
    assert ref > fused > base
