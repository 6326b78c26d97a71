"""The generic grader: the reader's module against the library's, check by check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..attention import registry

Hint = Callable[[Tensor, Tensor, Tensor], str | None]  # (x, theirs, ours) -> hint or None


class GradeFailure(AssertionError):
    """A grading that did not pass: the message names the first failed check and its hint.

    In a notebook it shows as one line, ``GradeFailure: <the message>``, under the grader's
    printed report, without a traceback into the grader: the fault is in the reader's code.
    """

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


@dataclass
class GradeReport:
    """The outcome of a grading: one (check, passed, message) row per check run."""

    module: str
    rows: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(ok for _, ok, _ in self.rows)

    def add(self, check: str, ok: bool, message: str = "") -> bool:
        self.rows.append((check, ok, message))
        return ok

    def __str__(self) -> str:
        lines = [f"Checking your {self.module}:"]
        lines += [
            f"  {'✓' if ok else '✗'} {check}" + (f": {msg}" if msg else "")
            for check, ok, msg in self.rows
        ]
        lines.append(
            "All checks passed. Well done!"
            if self.passed
            else "Not yet: fix the first ✗ above and run the check again."
        )
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failure(self) -> str:
        """The first failed check and its message (empty if all passed)."""
        if not self.rows:
            return f"{self.module}: no check ran"
        check, msg = next(((c, m) for c, ok, m in self.rows if not ok), ("", ""))
        return f"{self.module}: {check}" + (f": {msg}" if msg else "") if check else ""

    def assert_passed(self) -> None:
        """Raise :class:`GradeFailure` with :attr:`failure` unless every check passed: an
        autograder (nbgrader's test cells) then scores the cell zero and shows the message."""
        if not self.passed:
            raise GradeFailure(self.failure)


def check_module(
    candidate: Callable[..., nn.Module],
    reference: str | Callable[..., nn.Module],
    *,
    channels: int = 64,
    kwargs: dict[str, object] | None = None,
    shape: Sequence[int] = (2, 9, 7),
    hints: Sequence[Hint] = (),
    advice: str | None = None,
    count_hint: str | None = None,
    prepare: Callable[[nn.Module], object] | None = None,
    atol: float = 1e-5,
    title: str | None = None,
    verbose: bool = True,
) -> GradeReport:
    """Grade ``candidate(channels, **kwargs)`` against the library's ``reference``.

    Args:
        candidate: the reader's class (or factory), called like the library's.
        reference: registry name of the library's module (``"se"``), or a factory
            ``(channels, **kwargs) -> nn.Module`` for modules outside the registry.
        channels: channel count to build both with.
        shape: (N, H, W) of the test input; odd, non-square sizes catch transposes.
        hints: functions ``(x, theirs, ours) -> str | None`` that explain a numerical mismatch
            (for example, a missing sigmoid) in the reader's terms; the first that answers wins.
        advice: the hint when the outputs differ and no function in ``hints`` explains why.
        count_hint: added to the report when the parameter count differs (what the module's
            layers are).
        prepare: called on the reference (under ``no_grad``) before its weights are copied:
            moves a module that starts as the identity (gamma = 0) off it, so a wrong attention
            cannot pass unnoticed.
        atol: tolerance of the numerical comparison.
        title: the module's name in the report (default: the registry title).
    """
    kwargs = kwargs or {}
    if isinstance(reference, str):
        title = title or registry.entry(reference).title
        reference = _from_registry(reference)
    report = GradeReport(title or getattr(reference, "__name__", "module"))
    torch.manual_seed(0)
    ours = reference(channels, **kwargs).eval()
    if prepare is not None:
        with torch.no_grad():
            prepare(ours)
    theirs = _build(report, candidate, channels, kwargs)
    if theirs is not None:
        n, h, w = shape
        x = torch.randn(n, channels, h, w)
        if _same_structure(report, ours, theirs, x, count_hint):
            _same_numbers(report, ours, theirs, x, atol, _Advice(hints, advice))
    return _done(report, verbose)


def _from_registry(name: str) -> Callable[..., nn.Module]:
    return lambda c, **kw: registry.build(name, c, **kw)


def _build(
    report: GradeReport, candidate: Callable[..., nn.Module], channels: int, kwargs: dict
) -> nn.Module | None:
    """The reader's module in eval mode, or None (reported) when building it raised."""
    try:
        theirs = candidate(channels, **kwargs).eval()
    except Exception as exc:  # the reader's code: report, don't crash the notebook
        report.add(
            "builds",
            False,
            f"{candidate.__name__}({channels}, **{kwargs}) raised {type(exc).__name__}: {exc}",
        )
        return None
    report.add("builds", True)
    return theirs


def _same_structure(
    report: GradeReport, ours: nn.Module, theirs: nn.Module, x: Tensor, count_hint: str | None
) -> bool:
    """Forward runs, the output's shape, the parameter count, weights that copy across."""
    try:
        out = theirs(x)
    except Exception as exc:
        return report.add(
            "forward",
            False,
            f"calling it on a {tuple(x.shape)} input raised {type(exc).__name__}: {exc}",
        )
    if not report.add(
        "output shape",
        tuple(out.shape) == tuple(x.shape),
        f"expected {tuple(x.shape)}, got {tuple(out.shape)}" if out.shape != x.shape else "",
    ):
        return False
    n_ours, n_theirs = _count(ours), _count(theirs)
    count_advice = count_hint or "check the hidden width (reduction) and which layers have biases"
    if not report.add(
        "parameter count",
        n_ours == n_theirs,
        f"expected {n_ours:,}, yours has {n_theirs:,}: {count_advice}"
        if n_ours != n_theirs
        else f"{n_theirs:,}",
    ):
        return False
    problem = _copy_weights(ours, theirs)
    return report.add("weights line up with the reference", problem is None, problem or "")


@dataclass(frozen=True)
class _Advice:
    hints: Sequence[Hint]
    fallback: str | None


def _same_numbers(
    report: GradeReport,
    ours: nn.Module,
    theirs: nn.Module,
    x: Tensor,
    atol: float,
    advice: _Advice,
) -> None:
    """The same output as the reference (with the weights copied), and gradients everywhere."""
    with torch.no_grad():
        expected, got = ours(x), theirs(x)
    err = (expected - got).abs().max().item()
    hint = "" if err <= atol else _hint(advice.hints, advice.fallback, x, got, expected)
    if not report.add(
        "same output as attncv's module",
        err <= atol,
        f"max difference {err:.3g} (tolerance {atol:g}){hint}",
    ):
        return
    theirs.train()
    theirs.zero_grad()
    theirs(x).square().mean().backward()
    missing = [n for n, p in theirs.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    report.add(
        "gradients reach every parameter",
        not missing,
        f"no gradient for {', '.join(missing)}: is it used in forward()?" if missing else "",
    )


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _copy_weights(source: nn.Module, target: nn.Module) -> str | None:
    """Copy parameters and buffers in registration order, matched by shape, not by name."""
    src = [t for t in list(source.parameters()) + list(source.buffers()) if t.is_floating_point()]
    dst = [t for t in list(target.parameters()) + list(target.buffers()) if t.is_floating_point()]
    src_shapes = sorted(_key(t) for t in src)
    dst_shapes = sorted(_key(t) for t in dst)
    if src_shapes != dst_shapes:
        return (
            f"the reference's tensors have shapes {src_shapes}, yours {dst_shapes}; create the "
            "layers with the same sizes (a 1x1 convolution and a Linear layer of the same "
            "size hold the same weights, so either is fine if you reshape)"
        )
    pool = list(src)
    with torch.no_grad():
        for t in dst:
            for i, s in enumerate(pool):
                if _key(s) == _key(t):
                    t.copy_(pool.pop(i).reshape(t.shape))
                    break
    return None


def _key(t: Tensor) -> tuple[int, ...]:
    """Shape without trailing 1s: a Linear (C/r, C) matches a 1x1 convolution (C/r, C, 1, 1)."""
    shape = list(t.shape)
    while len(shape) > 1 and shape[-1] == 1:
        shape.pop()
    return tuple(shape)


def _hint(
    hints: Sequence[Hint], advice: str | None, x: Tensor, got: Tensor, expected: Tensor
) -> str:
    for hint in hints:
        text = hint(x, got, expected)
        if text:
            return f". Hint: {text}"
    return f". Hint: {advice}" if advice else ""


def _done(report: GradeReport, verbose: bool) -> GradeReport:
    if verbose:
        print(report)
    return report
