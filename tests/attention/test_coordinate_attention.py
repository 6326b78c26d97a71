"""Coordinate attention (Hou et al., 2021): the two directional gates, checked per coordinate."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attncv.attention import capture
from attncv.attention.coordinate_attention import CoordinateAttention


def hidden(c: int, r: int = 32) -> int:
    return max(8, c // r)


@pytest.mark.parametrize(("c", "r"), [(16, 32), (64, 32), (512, 32), (512, 16)])
def test_parameter_count_matches_the_formula(c: int, r: int) -> None:
    m = hidden(c, r)
    expected = c * m + m + 2 * m + 2 * (m * c + c)
    assert sum(p.numel() for p in CoordinateAttention(c, reduction=r).parameters()) == expected


@pytest.mark.parametrize("shape", [(2, 16, 5, 7), (1, 64, 1, 1), (3, 32, 9, 2)])
def test_equals_the_papers_equations_per_coordinate(shape) -> None:
    torch.manual_seed(0)
    m = CoordinateAttention(shape[1]).eval()
    m.bn1.running_mean.normal_()
    m.bn1.running_var.uniform_(0.5, 2.0)
    x = torch.randn(shape)

    def encode(z: torch.Tensor) -> torch.Tensor:  # z: (N, C, L) -> f: (N, M, L), Eq. 4
        w1 = m.conv1.weight[:, :, 0, 0]
        return F.hardswish(
            m.bn1((torch.einsum("mc,ncl->nml", w1, z) + m.conv1.bias[:, None])[..., None])
        )[..., 0]

    def gate(conv: torch.nn.Conv2d, f: torch.Tensor) -> torch.Tensor:  # Eqs. 5-6
        return torch.sigmoid(
            torch.einsum("cm,nml->ncl", conv.weight[:, :, 0, 0], f) + conv.bias[:, None]
        )

    g_h = gate(m.conv_h, encode(x.mean(dim=3)))  # (N, C, H)
    g_w = gate(m.conv_w, encode(x.mean(dim=2)))  # (N, C, W)
    expected = x * g_h[:, :, :, None] * g_w[:, :, None, :]  # Eq. 7
    torch.testing.assert_close(m(x), expected)


def test_gates_have_the_documented_shapes_and_lie_in_unit_interval() -> None:
    m = CoordinateAttention(32)
    with capture(m) as maps:
        m(torch.randn(2, 32, 6, 9) * 5)
    a_h, a_w = maps["tap_h"], maps["tap_w"]
    assert a_h.shape == (2, 32, 6, 1) and a_w.shape == (2, 32, 1, 9)
    for a in (a_h, a_w):
        assert (a > 0).all() and (a < 1).all()


def test_row_gate_depends_on_rows_only() -> None:
    """Permuting the columns permutes a_w and leaves a_h alone (eval mode)."""
    torch.manual_seed(0)
    m = CoordinateAttention(16).eval()
    x = torch.randn(1, 16, 5, 6)
    perm = torch.randperm(6)
    with capture(m) as a:
        m(x)
    with capture(m) as b:
        m(x[..., perm])
    torch.testing.assert_close(b["tap_h"], a["tap_h"])
    torch.testing.assert_close(b["tap_w"], a["tap_w"][..., perm])


@pytest.mark.parametrize(("channels", "kwargs"), [(0, {}), (64, {"reduction": 0})])
def test_bad_arguments_are_clear_errors(channels: int, kwargs) -> None:
    with pytest.raises(ValueError, match="^Coordinate"):
        CoordinateAttention(channels, **kwargs)
