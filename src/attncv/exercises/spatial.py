"""Graders for the spatial-attention chapters: the reader's self-attention, non-local block and
spatial transformer against the library's.

The references are moved off their identity start (gamma = 0.5, W_z's BN scale = 0.5, a warp that
zooms and shifts) before their weights are copied into the reader's module: at initialisation all
three return their input, and a wrong attention would pass unnoticed. The spatial transformer's last
layer also gets small random weights, or no gradient would reach its localisation network.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..attention.stn import IDENTITY, SpatialTransformer, localization_network
from .grader import check_module
from .report import GradeReport

SCALE = 0.5  # gamma (self-attention) and the BN scale (non-local) while grading
WARP = (0.8, -0.1, 0.15, 0.1, 0.8, -0.2)  # theta while grading the spatial transformer


def _is_input(x: Tensor, got: Tensor, expected: Tensor) -> str | None:
    if torch.allclose(got, x, atol=1e-5):
        return (
            "your output equals the input: the attention's contribution is missing, or your "
            "scale is still zero (the grader copies the reference's weights into yours)."
        )
    return None


def _unscaled(x: Tensor, got: Tensor, expected: Tensor) -> str | None:
    if torch.allclose(got - x, (expected - x) / SCALE, atol=1e-4):
        return "multiply the attention output by gamma before adding the input."
    return None


def _warp(stn: SpatialTransformer) -> None:
    stn.localization[-1].bias.copy_(torch.tensor(WARP))
    stn.localization[-1].weight.normal_(std=0.01)  # a zero weight would block gradients


def check_self_attention(candidate: Callable[..., nn.Module]) -> GradeReport:
    """Grade a reader's ``MySelfAttention(channels)`` (SAGAN, reduction 8) with gamma = 0.5."""
    return check_module(
        candidate,
        "self_attention",
        prepare=lambda m: m.gamma.fill_(SCALE),
        channels=32,
        shape=(2, 7, 5),
        hints=[_is_input, _unscaled],
        advice="check that the softmax runs over the keys (the last axis of q k^T, so each "
        "query's weights sum to one), that the query layer is created before the key layer, "
        "and that positions are flattened row by row (x.flatten(2)).",
    )


def check_non_local(candidate: Callable[..., nn.Module]) -> GradeReport:
    """Grade a reader's ``MyNonLocal(channels)`` (embedded Gaussian, C/2, no sub-sampling) with
    the output BN's scale at 0.5."""
    return check_module(
        candidate,
        "non_local",
        prepare=lambda m: m.bn.weight.fill_(SCALE),
        channels=32,
        shape=(2, 6, 5),
        hints=[_is_input],
        advice="z = BN(W_z y) + x: the BN comes after W_z and before the addition; theta, phi "
        "and g must be created in that order, and the softmax runs over phi's positions.",
    )


def check_stn(candidate: Callable[..., nn.Module]) -> GradeReport:
    """Grade a reader's ``MySTN(channels)`` (the library's localisation network) with a warp that
    zooms and shifts, so the sampling convention shows."""
    return check_module(
        candidate,
        "stn",
        prepare=_warp,
        channels=3,
        shape=(2, 12, 10),
        hints=[_is_input],
        advice="sample with F.affine_grid(theta, x.shape, align_corners=False) and "
        "F.grid_sample(x, grid, align_corners=False): the two must use the same convention.",
        helpers=(localization_network, IDENTITY),  # the exercise hands these out
    )
