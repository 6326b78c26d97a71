"""The generic grader: the reader's module against the library's, check by check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..attention import registry
from . import honesty
from .reference import is_reference_solution

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
    """The outcome of a grading: one (check, passed, message) row per check run.

    ``reference``: the graded answer is the book's hidden reference solution
    (:func:`attncv.exercises.reference_solution`); the report says so instead of "your".
    """

    module: str
    rows: list[tuple[str, bool, str]] = field(default_factory=list)
    reference: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(ok for _, ok, _ in self.rows)

    def add(self, check: str, ok: bool, message: str = "") -> bool:
        self.rows.append((check, ok, message))
        return ok

    def __str__(self) -> str:
        who = f"the hidden reference solution ({self.module})" if self.reference else None
        lines = [f"Checking {who or f'your {self.module}'}:"]
        lines += [
            f"  {'✓' if ok else '✗'} {check}" + (f": {msg}" if msg else "")
            for check, ok, msg in self.rows
        ]
        lines.append(self._verdict())
        return "\n".join(lines)

    def _verdict(self) -> str:
        """A statement of what passed, not a congratulation: in the book the graded answer is
        the hidden reference solution, not the reader's."""
        if not self.passed:
            return "Not yet: fix the first ✗ above and run the check again."
        n = len(self.rows)
        counted = "the one check passes" if n == 1 else f"all {n} checks pass"
        if self.reference:
            return (
                f"Checked the hidden reference solution: {counted}. "
                "Your own version is graded the same way."
            )
        return f"{counted[0].upper()}{counted[1:]}."

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
    own: Sequence[str] = ("__init__", "forward"),
    subclass: type | None = None,
    helpers: Sequence[object] = (),
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
        own, subclass, helpers: what the answer must write itself, the library class the
            exercise asks it to subclass (then the library's parts inside it are allowed), and
            the library's helpers it may use: see :func:`attncv.exercises.honesty.borrowed`.

    An answer that is the library's module, a subclass of it, or a wrapper around it is refused
    before anything else runs (one ✗ line that names the rule). Whatever the answer does, the
    grader reports it and never raises.
    """
    kwargs = kwargs or {}
    if isinstance(reference, str):
        title = title or registry.entry(reference).title
        reference = _from_registry(reference)
    report = GradeReport(
        title or getattr(reference, "__name__", "module"),
        reference=is_reference_solution(candidate),
    )
    rules = {"own": own, "subclass": subclass, "helpers": helpers}
    if not own_code(report, candidate, last=False, **rules):
        return _done(report, verbose)
    torch.manual_seed(0)
    ours = reference(channels, **kwargs).eval()
    if prepare is not None:
        with torch.no_grad():
            prepare(ours)
    theirs = _build(report, candidate, channels, kwargs)
    if theirs is None:
        return _done(report, verbose)
    problem = honesty.borrowed_parts(
        theirs, parts=subclass is not None, whole=(type(ours),), helpers=helpers
    )
    if not report.add(honesty.ROW, problem is None, honesty.refusal(problem) if problem else ""):
        return _done(report, verbose)
    n, h, w = shape
    x = torch.randn(n, channels, h, w)
    try:
        if _same_structure(report, ours, theirs, x, count_hint):
            _same_numbers(report, ours, theirs, x, atol, _Advice(hints, advice))
    except Exception as exc:  # the reader's code, somewhere we did not expect: report it
        report.add("the grader could run your module", False, _raised(exc))
    return _done(report, verbose)


def own_code(
    report: GradeReport,
    candidate: object,
    *,
    last: bool = True,
    own: Sequence[str] = (),
    subclass: type | None = None,
    helpers: Sequence[object] = (),
) -> bool:
    """Refuse (a ✗ row naming the rule) an answer that is, subclasses or wraps the library's;
    with ``last``, a ✓ row otherwise (a module grader adds it once the built module is seen)."""
    try:
        problem = honesty.borrowed(candidate, own=own, subclass=subclass, helpers=helpers)
    except Exception as exc:  # an object that defeats inspection: grade it, don't crash
        problem = None if not honesty.from_library(candidate) else f"{exc}"
    if problem:
        return report.add(honesty.ROW, False, honesty.refusal(problem))
    if last:
        report.add(honesty.ROW, True)
    return True


def _raised(exc: BaseException) -> str:
    text = str(exc).split("\n")[0].split(" Hint: enable anomaly detection")[0]  # torch's
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _describe(candidate: object) -> str:
    name = getattr(candidate, "__name__", None)
    if isinstance(name, str):
        return name
    func = getattr(candidate, "func", None)  # functools.partial
    return f"partial({func.__name__})" if hasattr(func, "__name__") else repr(candidate)


def _from_registry(name: str) -> Callable[..., nn.Module]:
    return lambda c, **kw: registry.build(name, c, **kw)


def _build(
    report: GradeReport, candidate: Callable[..., nn.Module], channels: int, kwargs: dict
) -> nn.Module | None:
    """The reader's module in eval mode, or None (reported) when building it failed."""
    name = _describe(candidate)
    if not callable(candidate):
        report.add(
            "builds",
            False,
            f"{name} is a {type(candidate).__name__}, not a class: pass your class itself",
        )
        return None
    try:
        theirs = candidate(channels, **kwargs)
        if isinstance(theirs, nn.Module):
            theirs.eval()
    except Exception as exc:  # the reader's code: report, don't crash the notebook
        report.add("builds", False, f"{name}({channels}, **{kwargs}) raised {_raised(exc)}")
        return None
    if not isinstance(theirs, nn.Module):
        what = f"{name}({channels}) gave a {type(theirs).__name__}, not an nn.Module"
        report.add("builds", False, f"{what}: write a class that subclasses torch.nn.Module")
        return None
    report.add("builds", True)
    return theirs


def _same_structure(
    report: GradeReport, ours: nn.Module, theirs: nn.Module, x: Tensor, count_hint: str | None
) -> bool:
    """Forward runs, the output's shape, the parameter count, weights that copy across."""
    given = x.clone()
    try:
        out = theirs(given)
    except Exception as exc:
        return report.add(
            "forward", False, f"calling it on a {tuple(x.shape)} input raised {_raised(exc)}"
        )
    if not torch.equal(given, x):
        return report.add(
            "leaves its input alone",
            False,
            "forward changed its input tensor in place (x *= s, x += y, relu_): the caller's "
            "tensor is overwritten, and autograd may need it for the backward pass. Write "
            "x = x * s instead",
        )
    if not isinstance(out, Tensor):
        return report.add(
            "output shape", False, f"forward returned a {type(out).__name__}, not a tensor"
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
        expected, got = ours(x), theirs(x.clone())
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        report.add("same output as attncv's module", False, "a second call gave another shape")
        return
    err = (expected - got.to(expected.dtype)).abs().max().item()
    ok = err <= atol  # False for NaN
    hint = "" if ok else _hint(advice.hints, advice.fallback, x, got, expected)
    if not report.add(
        "same output as attncv's module", ok, f"max difference {err:.3g} (tolerance {atol:g}){hint}"
    ):
        return
    try:
        theirs.train()
        theirs.zero_grad()
        given = x.clone().requires_grad_()  # as in a network: gradients flow to the input too
        theirs(given * 1).square().mean().backward()
    except Exception as exc:  # autograd's errors are the reader's too: an in-place x *= s
        report.add("gradients reach every parameter", False, _backward_hint(exc))
        return
    missing = [n for n, p in theirs.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    report.add(
        "gradients reach every parameter",
        not missing,
        f"no gradient for {', '.join(missing)}: is it used in forward()?" if missing else "",
    )


def _backward_hint(exc: BaseException) -> str:
    text = f"a training step (forward in train mode, then backward) raised {_raised(exc)}"
    if "inplace" in str(exc) or "in-place" in str(exc):
        text += (
            ". Hint: an operation in place (x *= s, x += y, relu_, clamp_) overwrote a "
            "tensor that autograd needs for the backward pass: write x = x * s, "
            "y = y.clamp(...) instead"
        )
    return text


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
        try:
            text = hint(x, got.to(expected.dtype), expected)
        except Exception:  # an output so odd that the hint cannot read it: try the next
            continue
        if text:
            return f". Hint: {text}"
    return f". Hint: {advice}" if advice else ""


def _done(report: GradeReport, verbose: bool) -> GradeReport:
    if verbose:
        print(report)
    return report
