"""Graders for the channel-attention chapters: ``check_se``, ``check_sk`` and ``check_eca``.

Each grades the reader's class with :func:`attncv.exercises.check_module` and turns the usual
mistakes into advice: a missing sigmoid (gates outside (0, 1)), a softmax over the channels
instead of a sigmoid, a gate that is not one number per channel, a softmax over the wrong axis,
the wrong hidden width or kernel size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ..attention.eca import eca_kernel_size
from ..attention.sk import sk_groups
from .grader import GradeReport, Hint, check_module


def _implied_gate(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel factor y / x where |x| is not tiny: (lowest, highest) over positions, (N, C)."""
    ratio, keep = (y / x).flatten(2), (x.abs() > 0.1).flatten(2)  # (N, C, H*W)
    low = ratio.masked_fill(~keep, float("inf")).amin(-1)
    high = ratio.masked_fill(~keep, float("-inf")).amax(-1)
    return low, high


def _gate_outside_unit(x: Tensor, theirs: Tensor, ours: Tensor) -> str | None:
    low, high = _implied_gate(x, theirs)
    if (low > 1 - 1e-4).all() and (high < 2 + 1e-4).all():
        return (
            "your output is x + x * gate: the module returns x * gate alone (the ResNet "
            "block adds the shortcut x afterwards)"
        )
    if (low < -1e-4).any() or (high > 1 + 1e-4).any():
        return (
            "your output is x times factors outside (0, 1): is the sigmoid missing from the gate?"
        )
    return None


def _gates_sum_to_one(x: Tensor, theirs: Tensor, ours: Tensor) -> str | None:
    low, high = _implied_gate(x, theirs)
    gate = (low + high) / 2  # (N, C): one factor per channel (checked before this hint)
    if torch.isfinite(gate).all() and ((gate.sum(1) - 1).abs() < 1e-3).all():
        return (
            "your gates sum to 1 over the channels: is that a softmax? The gate weighs each "
            "channel on its own, with a sigmoid, so channels do not compete"
        )
    return None


def _gate_varies_over_space(x: Tensor, theirs: Tensor, ours: Tensor) -> str | None:
    low, high = _implied_gate(x, theirs)
    if ((high - low) > 1e-3).any():
        return (
            "your output is not x times one number per channel: return x * gate with the "
            "gate of shape (N, C, 1, 1), with no residual added"
        )
    return None


SE_ADVICE = (
    "the gates are in (0, 1) and one per channel, but not the reference's: "
    "squeeze with global *average* pooling, and check the ReLU and the order of "
    "the layers"
)
ECA_ADVICE = (
    "the gates are in (0, 1) and one per channel, but not the reference's: "
    "squeeze with global *average* pooling, and pad the 1-D convolution by "
    "(k - 1) // 2 on each side so channel i sees its k nearest channels"
)


def _softmax_axis(x: Tensor, theirs: Tensor, ours: Tensor) -> str | None:
    if theirs.abs().mean() < 0.2 * ours.abs().mean():
        return (
            "your output is far smaller than expected: take the softmax over the branches "
            "(dim=1 of the (N, M, C) logits), not over the channels"
        )
    return None


SK_ADVICE = (
    "check the order of the branches (3x3 first, then 3x3 with dilation 2), that "
    "the pooled descriptor comes from their sum, and V = a * U1 + b * U2"
)


GATE_HINTS: tuple[Hint, ...] = (_gate_varies_over_space, _gate_outside_unit, _gates_sum_to_one)


def check_se(
    candidate: Callable[..., nn.Module], *, channels: int = 64, verbose: bool = True
) -> GradeReport:
    """Grade the reader's ``SE(channels, reduction=16)`` against :class:`attncv.attention.se.SE`."""
    return check_module(
        candidate,
        "se",
        channels=channels,
        hints=GATE_HINTS,
        advice=SE_ADVICE,
        count_hint=f"SE has two layers C -> C/r -> C with biases: C/r = {channels // 16} here",
        verbose=verbose,
    )


def check_eca(
    candidate: Callable[..., nn.Module],
    *,
    channels: Sequence[int] = (64, 256),
    verbose: bool = True,
) -> GradeReport:
    """Grade the reader's ``ECA(channels)`` at each of ``channels`` (the kernel size changes
    between 64 and 256, so a hard-coded k fails); stops at the first channel count that fails.
    One report, each check named with its channel count."""
    report = GradeReport("ECA")
    for c in channels:
        k = eca_kernel_size(c)
        part = check_module(
            candidate,
            "eca",
            channels=c,
            hints=GATE_HINTS,
            advice=ECA_ADVICE,
            count_hint=f"ECA has exactly k parameters (a 1-D kernel, no bias): k = {k} for C = {c}",
            verbose=False,
        )
        for check, ok, message in part.rows:
            report.add(f"C = {c}: {check}", ok, message)
        if not part:
            break
    if verbose:
        print(report)
    return report


def check_sk(
    candidate: Callable[..., nn.Module], *, channels: int = 64, verbose: bool = True
) -> GradeReport:
    """Grade the reader's ``SK(channels)`` against the library's (branches=2, groups=32,
    reduction=16, min_hidden=32: the paper's M, G, r and L)."""
    g, d = sk_groups(channels), max(channels // 16, 32)
    return check_module(
        candidate,
        "sk",
        channels=channels,
        hints=(_softmax_axis,),
        advice=SK_ADVICE,
        count_hint=f"SK has two 3x3 branches with groups={g} (the second with dilation 2, not a "
        f"5x5 kernel), each with BN; a fuse FC C -> d = {d} without bias, with BN; and "
        f"a select FC d -> 2C without bias",
        verbose=verbose,
    )
