"""SE's paper facts: the parameter formula, gates in (0, 1), one gate per channel, and equality
with a formulation written out from the paper's equations."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from attncv.attention import capture
from attncv.attention.se import SE


@pytest.mark.parametrize("channels", [64, 128, 256, 512])
@pytest.mark.parametrize("reduction", [16, 8])
def test_parameter_count_is_2c2_over_r_plus_biases(channels: int, reduction: int) -> None:
    module = SE(channels, reduction=reduction)
    hidden = channels // reduction
    expected = 2 * channels * channels // reduction + hidden + channels
    assert sum(p.numel() for p in module.parameters()) == expected


def test_matches_the_papers_equations() -> None:
    torch.manual_seed(0)
    module = SE(64).eval()
    x = torch.randn(3, 64, 7, 5)
    w1, b1 = module.fc1.weight.flatten(1), module.fc1.bias  # (C/r, C), (C/r,)
    w2, b2 = module.fc2.weight.flatten(1), module.fc2.bias  # (C, C/r), (C,)
    z = x.flatten(2).mean(-1)  # Eq. 2, squeeze: (N, C)
    s = torch.sigmoid(F.linear(torch.relu(F.linear(z, w1, b1)), w2, b2))  # Eq. 3: (N, C)
    expected = x * s[:, :, None, None]  # Eq. 4, scale
    torch.testing.assert_close(module(x), expected)


def test_gates_lie_in_zero_one_and_are_one_per_channel() -> None:
    torch.manual_seed(0)
    module = SE(64)
    x = torch.randn(4, 64, 6, 6) * 3
    with capture(module) as maps:
        y = module(x)
    (gate,) = maps.values()
    assert gate.shape == (4, 64, 1, 1)
    assert (gate > 0).all() and (gate < 1).all()
    torch.testing.assert_close(y, x * gate)  # the same factor at every position of a channel


def test_reduction_that_leaves_no_hidden_unit_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"SE: channels=8 with reduction=16 leaves 0"):
        SE(8)
    with pytest.raises(ValueError, match="SE: reduction must be positive"):
        SE(64, reduction=0)
