"""Graders for the mixed-attention chapters: CBAM, DANet, CCNet, residual and coordinate attention.

Each ``check_<name>(cls)`` grades the reader's class against the library's with
:func:`attncv.exercises.check_module`. DANet and CCNet start as the identity (their scales alpha,
beta and gamma are 0), so agreeing at initialisation proves little: their graders compare against a
reference whose scales are set to 0.5 (``prepare=``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..attention.residual_attention import ResidualAttention
from . import honesty
from .grader import check_module
from .report import GradeReport


def _unchanged(x: Tensor, got: Tensor, _expected: Tensor) -> str | None:
    if torch.allclose(got, x, atol=1e-6):
        return "your module returns its input unchanged: is the attention applied to x?"
    return None


def _gate_bound(x: Tensor, got: Tensor, _expected: Tensor) -> str | None:
    if (got.abs() > x.abs() + 1e-5).any():
        return (
            "some outputs are larger in magnitude than the input, which a product of gates in "
            "(0, 1) cannot do: is a sigmoid missing?"
        )
    return None


def _off_identity(module: nn.Module) -> None:
    """Set every zero-initialised scale (DANet's alpha and beta, CCNet's gamma) to 0.5, so that
    the reader's copy must compute the attention."""
    for p in module.parameters():
        if p.numel() == 1 and not p.any():
            p.fill_(0.5)


def check_cbam(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's CBAM: channel gate (avg and max through one MLP), then spatial gate."""
    advice = (
        "check the order and the pooling: the channel gate sums MLP(avg) and MLP(max) before "
        "the sigmoid, and the spatial gate pools the channel-refined features F', not F"
    )
    return check_module(
        cls, "cbam", hints=[_unchanged, _gate_bound], advice=advice, verbose=verbose
    )


def check_danet(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's DANet: x + alpha * PAM(x) + beta * CAM(x)."""
    advice = (
        "check the softmax axes (each query position's row over all keys) and CAM's "
        "max-minus-energy; create query, key and value in that order"
    )
    return check_module(
        cls,
        "danet",
        hints=[_unchanged],
        advice=advice,
        prepare=_off_identity,
        atol=1e-4,
        verbose=verbose,
    )


def check_ccnet(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's CCNet: criss-cross attention applied ``recurrence`` times."""
    advice = (
        "is the position itself masked out of its column (counted once, in its row), the "
        "softmax taken jointly over the H + W scores, and the pass repeated twice?"
    )
    return check_module(
        cls,
        "ccnet",
        hints=[_unchanged],
        advice=advice,
        prepare=_off_identity,
        atol=1e-4,
        verbose=verbose,
    )


def _one_plus(_x: Tensor, got: Tensor, expected: Tensor) -> str | None:
    if (got.abs() <= expected.abs() + 1e-6).float().mean() > 0.95:
        return "your outputs are smaller than the reference's: the combination is (1 + M) * T"
    return None


def check_residual_attention(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's residual attention module (the chapter's exercise overrides its soft
    mask ``mask(x)``; a whole module works too): p units, then (1 + M) * T, then p units."""
    advice = (
        "in the mask, each level max-pools and then applies its down units; on the way up, "
        "up-sample to the size before that level's pooling, then add the skip and apply the up "
        "units at every level but the top; the head and a sigmoid end it. The mask and the "
        "trunk both read the output of the first p units, and the last p units follow "
        "(1 + M) * T"
    )
    hints = [_unchanged, _one_plus]
    return check_module(
        cls,
        "residual_attention",
        hints=hints,
        advice=advice,
        atol=1e-4,
        verbose=verbose,
        # the exercise: subclass the library's module and write its soft mask; a whole module
        # of the reader's own writes __init__ and forward instead
        own=("mask",) if _subclasses(cls, ResidualAttention) else ("__init__", "forward"),
        subclass=ResidualAttention,
    )


def _subclasses(cls: object, base: type) -> bool:
    return honesty.subclasses(cls, base)  # attncv's ResidualAttention or a fresh copy's


def check_coordinate_attention(
    cls: Callable[..., nn.Module], *, verbose: bool = True
) -> GradeReport:
    """Grade a reader's coordinate attention: x * a_h * a_w."""
    advice = (
        "pool with the mean (not the max) over the width for a_h and over the height for a_w, "
        "and encode both strips with the same conv1, BN and h-swish"
    )
    hints = [_unchanged, _gate_bound]
    return check_module(cls, "coordinate_attention", hints=hints, advice=advice, verbose=verbose)
