"""The spatial graders accept the library's modules and name realistic mistakes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attncv.attention.non_local import NonLocal
from attncv.attention.self_attention import SelfAttention
from attncv.attention.stn import SpatialTransformer
from attncv.exercises.spatial import check_non_local, check_self_attention, check_stn

# Mistakes are written as subclasses of the library's modules, and the library's modules are
# graded as references: the rule against such answers is tested in test_honesty.py.
pytestmark = pytest.mark.usefixtures("library_answers")


class _SAGAN(nn.Module):
    """A reader's SAGAN block, optionally with the softmax over queries or without gamma."""

    def __init__(self, channels: int, wrong_axis: bool = False, use_gamma: bool = True) -> None:
        super().__init__()
        self.query = nn.Conv2d(channels, channels // 8, 1)
        self.key = nn.Conv2d(channels, channels // 8, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.wrong_axis, self.use_gamma = wrong_axis, use_gamma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k = self.query(x).flatten(2), self.key(x).flatten(2)  # (N, C/8, HW)
        v = self.value(x).flatten(2)  # (N, C, HW)
        attn = torch.softmax(q.transpose(1, 2) @ k, dim=1 if self.wrong_axis else 2)
        o = (v @ attn.transpose(1, 2)).view(n, c, h, w)
        return x + (self.gamma * o if self.use_gamma else o)


def test_references_pass() -> None:
    assert check_self_attention(SelfAttention)
    assert check_self_attention(_SAGAN)
    assert check_non_local(NonLocal)
    assert check_stn(SpatialTransformer)


def test_softmax_over_the_wrong_axis_is_caught(capsys) -> None:
    assert not check_self_attention(lambda c: _SAGAN(c, wrong_axis=True))
    assert "softmax runs over the keys" in capsys.readouterr().out


def test_missing_gamma_is_named(capsys) -> None:
    assert not check_self_attention(lambda c: _SAGAN(c, use_gamma=False))
    assert "gamma" in capsys.readouterr().out


def test_non_local_with_dot_product_instead_of_softmax_is_caught(capsys) -> None:
    assert not check_non_local(lambda c: NonLocal(c, mode="dot_product"))
    assert "softmax" in capsys.readouterr().out


def test_stn_with_the_other_corner_convention_is_caught(capsys) -> None:
    class Corners(SpatialTransformer):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            grid = F.affine_grid(self.transform(x), list(x.shape), align_corners=True)
            return F.grid_sample(x, grid, align_corners=True)

    assert not check_stn(Corners)
    assert "align_corners" in capsys.readouterr().out


def test_stn_grader_accepts_a_transformer_without_the_gradient_scale(capsys) -> None:
    """GRADIENT_SCALE changes only the backward pass; the grader compares outputs and checks that
    gradients reach every parameter, so a reader's STN may leave it out (the chapter says so)."""

    def unscaled(channels: int) -> SpatialTransformer:
        return SpatialTransformer(channels, gradient_scale=1.0)

    unscaled.__name__ = "MySTN"
    assert check_stn(unscaled)
