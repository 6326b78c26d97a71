"""Residual attention (Wang et al., 2017): (1 + M) * T with a soft mask in (0, 1)."""

from __future__ import annotations

import pytest
import torch

from attncv.attention import capture
from attncv.attention.residual_attention import ResidualAttention, ResidualUnit


def unit_params(c: int) -> int:
    m = c // 4
    return 2 * c + 2 * c * m + 4 * m + 9 * m * m


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"depth": 1},
        {"depth": 3, "mask_units": 2},
        {"pre_units": 0, "trunk_units": 1},
        {"pre_units": 2, "trunk_units": 0},
    ],
)
def test_parameter_count_matches_the_formula(kwargs) -> None:
    c = 64
    p, t, r, depth = (
        kwargs.get(k, d)
        for k, d in (("pre_units", 1), ("trunk_units", 2), ("mask_units", 1), ("depth", 2))
    )
    n_units = 2 * p + t + 2 * r * depth + depth - 1
    expected = n_units * unit_params(c) + 2 * c * c + 5 * c
    assert sum(q.numel() for q in ResidualAttention(c, **kwargs).parameters()) == expected
    assert sum(q.numel() for q in ResidualUnit(c).parameters()) == unit_params(c)


@pytest.mark.parametrize("shape", [(2, 16, 7, 5), (1, 8, 1, 1), (2, 8, 3, 11), (1, 8, 32, 32)])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_any_size_keeps_its_shape_and_the_mask_is_a_gate(shape, depth: int) -> None:
    torch.manual_seed(0)
    m = ResidualAttention(shape[1], depth=depth).eval()
    x = torch.randn(shape)
    with capture(m) as maps:
        y = m(x)
    assert y.shape == x.shape
    assert maps["tap"].shape == x.shape
    assert (maps["tap"] > 0).all() and (maps["tap"] < 1).all()


def test_output_is_one_plus_mask_times_trunk() -> None:
    torch.manual_seed(0)
    m = ResidualAttention(16, pre_units=0).eval()
    x = torch.randn(2, 16, 8, 6)
    torch.testing.assert_close(m(x), (1 + m.mask(x)) * m.trunk(x))
    m.head[-1].bias.data.fill_(-50.0)  # a mask of ~0 keeps the trunk instead of erasing it
    torch.testing.assert_close(m(x), m.trunk(x))


def test_mask_sees_beyond_the_trunks_receptive_field() -> None:
    """The bottom-up top-down branch: a change far away moves the mask at a pixel."""
    torch.manual_seed(0)
    m = ResidualAttention(8, pre_units=0, depth=3).eval()
    x = torch.randn(1, 8, 16, 16, requires_grad=True)
    m.mask(x)[0, :, 0, 0].sum().backward()
    assert x.grad[0, :, 12:, 12:].abs().sum() > 0  # the trunk's 3x3 pair would see 5x5


@pytest.mark.parametrize(
    ("channels", "kwargs"),
    [
        (2, {}),
        (0, {}),
        (64, {"depth": 0}),
        (64, {"mask_units": 0}),
        (64, {"trunk_units": -1}),
        (64, {"pre_units": 1.0}),
    ],
)
def test_bad_arguments_are_clear_errors(channels: int, kwargs) -> None:
    with pytest.raises(ValueError, match="^Residual attention"):
        ResidualAttention(channels, **kwargs)


def test_the_departures_from_attention_56_are_documented() -> None:
    """The bias on the mask's last 1x1 convolution and the max-pooling padding differ from the
    authors' Attention-56; the module's docstring says so (and the code does what it says)."""
    from attncv.attention import residual_attention

    deviations = residual_attention.__doc__.split("Deviations from the paper:")[1]
    assert "bias" in deviations and "Attention-56" in deviations
    assert "pad" in deviations and "7 -> 3, ours 7 -> 4" in deviations
    assert ResidualAttention(16).head[-1].bias is not None  # the documented bias
