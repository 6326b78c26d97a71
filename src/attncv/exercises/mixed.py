"""Graders for the mixed-attention chapters: CBAM, DANet, CCNet, residual and coordinate attention.

Each ``check_<name>(cls)`` grades the reader's class against the library's with
:func:`attncv.exercises.check_module`. DANet and CCNet start as the identity (their scales alpha,
beta and gamma are 0), so agreeing at initialisation proves little: their graders compare against a
reference whose scales are set to 0.5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..attention import registry
from .grader import GradeReport, Hint, check_module


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


def _scaled(name: str) -> Callable[..., nn.Module]:
    """A reference factory: the registry module with every zero-initialised scale (DANet's alpha
    and beta, CCNet's gamma) set to 0.5, so that the reader's copy must compute the attention."""

    def build(channels: int, **kwargs: Any) -> nn.Module:
        module = registry.build(name, channels, **kwargs)
        with torch.no_grad():
            for p in module.parameters():
                if p.numel() == 1 and not p.any():
                    p.fill_(0.5)
        return module

    return build


def _grade(
    candidate: Callable[..., nn.Module],
    name: str,
    hints: Sequence[Hint],
    advice: str,
    *,
    scaled: bool = False,
    verbose: bool = True,
    atol: float = 1e-5,
) -> GradeReport:
    """check_module with ``hints`` then ``advice``, offered only when the outputs differ."""

    def hint(x: Tensor, got: Tensor, expected: Tensor) -> str | None:
        if (got - expected).abs().max() <= atol:
            return None
        return next((h for h in (f(x, got, expected) for f in hints) if h), advice)

    reference = _scaled(name) if scaled else name
    title = registry.entry(name).title
    return check_module(candidate, reference, hints=[hint], atol=atol, verbose=verbose, title=title)


def check_cbam(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's CBAM: channel gate (avg and max through one MLP), then spatial gate."""
    advice = (
        "check the order and the pooling: the channel gate sums MLP(avg) and MLP(max) before "
        "the sigmoid, and the spatial gate pools the channel-refined features F', not F"
    )
    return _grade(cls, "cbam", [_unchanged, _gate_bound], advice, verbose=verbose)


def check_danet(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's DANet: x + alpha * PAM(x) + beta * CAM(x)."""
    advice = (
        "check the softmax axes (each query position's row over all keys) and CAM's "
        "max-minus-energy; create query, key and value in that order"
    )
    return _grade(cls, "danet", [_unchanged], advice, scaled=True, verbose=verbose, atol=1e-4)


def check_ccnet(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's CCNet: criss-cross attention applied ``recurrence`` times."""
    advice = (
        "is the position itself masked out of its column (counted once, in its row), the "
        "softmax taken jointly over the H + W scores, and the pass repeated twice?"
    )
    return _grade(cls, "ccnet", [_unchanged], advice, scaled=True, verbose=verbose, atol=1e-4)


def _one_plus(_x: Tensor, got: Tensor, expected: Tensor) -> str | None:
    if (got.abs() <= expected.abs() + 1e-6).float().mean() > 0.95:
        return "your outputs are smaller than the reference's: the combination is (1 + M) * T"
    return None


def check_residual_attention(cls: Callable[..., nn.Module], *, verbose: bool = True) -> GradeReport:
    """Grade a reader's residual attention module: p units, then (1 + M) * T, then p units."""
    advice = (
        "the mask and the trunk both read the output of the first p units, and the last p "
        "units follow the product"
    )
    hints = [_unchanged, _one_plus]
    return _grade(cls, "residual_attention", hints, advice, verbose=verbose, atol=1e-4)


def check_coordinate_attention(
    cls: Callable[..., nn.Module], *, verbose: bool = True
) -> GradeReport:
    """Grade a reader's coordinate attention: x * a_h * a_w."""
    advice = (
        "pool with the mean (not the max) over the width for a_h and over the height for a_w, "
        "and encode both strips with the same conv1, BN and h-swish"
    )
    hints = [_unchanged, _gate_bound]
    return _grade(cls, "coordinate_attention", hints, advice, verbose=verbose)
