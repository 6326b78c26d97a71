"""Graders for the channel-attention chapters: ``check_se``, ``check_sk`` and ``check_eca``.

Each grades the reader's class with :func:`attncv.exercises.check_module` and turns the usual
mistakes into advice: a missing sigmoid (gates outside (0, 1)), a softmax where the sigmoid
belongs (gates that sum to one over the channels), a gate that is not one number per channel, a
softmax over the wrong axis, the wrong hidden width or kernel size. ``check_eca`` grades every
channel count before its verdict, since a fixed kernel size is right at one width only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor, nn

from ..attention.eca import eca_kernel_size
from ..attention.sk import sk_groups
from . import honesty
from .grader import Hint, check_module, own_code
from .reference import is_reference_solution
from .report import GradeReport


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


def _gate_is_a_softmax(x: Tensor, theirs: Tensor, ours: Tensor) -> str | None:
    low, high = _implied_gate(x, theirs)
    gate = (low + high) / 2  # (N, C): one number per channel (checked before this hint)
    if ((gate.sum(1) - 1).abs() < 1e-3).all():
        return (
            "your gates sum to 1 over the channels: that is a softmax across channels, so the "
            "channels compete for one unit of attention. The gate is a sigmoid, applied to each "
            "channel on its own (torch.sigmoid), so any number of channels can be fully open"
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


GATE_HINTS: tuple[Hint, ...] = (_gate_varies_over_space, _gate_outside_unit, _gate_is_a_softmax)


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
    """Grade the reader's ``ECA(channels)`` at every one of ``channels`` before the verdict (the
    kernel size changes between 64 and 256, so a hard-coded k passes at one and fails at the
    other); the report has one line per channel count, and the failing checks in full."""
    report, passed = GradeReport("ECA", reference=is_reference_solution(candidate)), []
    if not own_code(report, candidate, last=False, own=("__init__", "forward")):
        if verbose:
            print(report)
        return report
    rule = ", ".join(f"k = {eca_kernel_size(c)} for C = {c}" for c in channels)
    for c in channels:
        k = eca_kernel_size(c)
        one = check_module(
            candidate,
            "eca",
            channels=c,
            hints=GATE_HINTS,
            advice=ECA_ADVICE,
            count_hint=(
                f"ECA has exactly k parameters (a 1-D kernel, no bias), and k adapts to C: "
                f"k = {k} for C = {c}. Compute k from channels in __init__ (t = "
                "int((log2(C) + 1) / 2), plus one if t is even) instead of fixing it"
            ),
            verbose=False,
        )
        if one.passed:
            passed.append(c)
            report.add(f"C = {c} (k = {k})", True, "every check passes")
        elif [row[0] for row in one.rows] == [honesty.ROW]:  # refused while it ran: that alone
            report.rows[:] = one.rows
            break
        else:
            report.rows += [(f"C = {c}: {check}", ok, msg) for check, ok, msg in one.rows if not ok]
    if passed and len(passed) < len(channels):
        report.add(
            "the kernel size adapts to C",
            False,
            f"right at C = {', '.join(map(str, passed))} only: ECA's kernel size grows with "
            f"the channel count ({rule}); compute it from channels",
        )
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
        helpers=(sk_groups,),
        verbose=verbose,
    )
