"""The generic grader: the reader's module against the library's, check by check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..attention import registry
from . import honesty
from . import watch as watch_
from .reference import is_reference_solution
from .report import GradeReport, stopped, what_raised

Hint = Callable[[Tensor, Tensor, Tensor], str | None]  # (x, theirs, ours) -> hint or None


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
    time_limit: float | None = None,
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
        time_limit: seconds the reader's code may run in all (default
            :data:`attncv.exercises.watch.TIME_LIMIT`).

    An answer that is the library's module, a subclass of it, or a wrapper around it is refused
    before anything else runs (one ✗ line that names the rule); so is one that runs the
    library's code while it is graded (:mod:`.watch`). The outputs must be plain tensors of the
    input's dtype, in eval and in training mode. Whatever the answer does (raise SystemExit,
    loop forever), the grader reports it and never raises, KeyboardInterrupt excepted.
    """
    kwargs = kwargs or {}
    if isinstance(reference, str):
        title = title or registry.entry(reference).title
        reference = _from_registry(reference)
    report = GradeReport(
        title or getattr(reference, "__name__", "module"),
        reference=is_reference_solution(candidate),
    )
    if _an_instance(report, candidate):
        return _done(report, verbose)
    rules = {"own": own, "subclass": subclass, "helpers": helpers}
    if not own_code(report, candidate, last=False, **rules):
        return _done(report, verbose)
    torch.manual_seed(0)
    ours = reference(channels, **kwargs).eval()
    if prepare is not None:
        with torch.no_grad():
            prepare(ours)
    watch = watch_answer(candidate, type(ours), time_limit=time_limit, **rules)
    try:
        setup = _Setup(channels, kwargs, shape, count_hint, atol, _Advice(hints, advice))
        _grade(report, watch, candidate, ours, setup, subclass=subclass, helpers=helpers)
    except (watch_.Refused, watch_.OutOfTime) as stop:
        stopped(report, stop)
    except watch_.Raised as raised:  # the reader's code, somewhere we did not expect: report it
        report.add("the grader could run your module", False, what_raised(raised.exc))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 (the reader's objects, where the grader reads them)
        report.add("the grader could run your module", False, what_raised(exc))
    return _done(report, verbose)


@dataclass(frozen=True)
class _Advice:
    hints: Sequence[Hint]
    fallback: str | None


@dataclass(frozen=True)
class _Setup:
    channels: int
    kwargs: dict
    shape: Sequence[int]
    count_hint: str | None
    atol: float
    advice: _Advice


def _grade(
    report: GradeReport,
    watch: watch_.Watch,
    candidate: Callable[..., nn.Module],
    ours: nn.Module,
    setup: _Setup,
    *,
    subclass: type | None,
    helpers: Sequence[object],
) -> None:
    """Build, then the checks in order, up to the first ✗ (the watch's stops propagate)."""
    theirs = _build(report, watch, candidate, setup)
    if theirs is None:
        return
    problem = honesty.borrowed_parts(
        theirs, parts=subclass is not None, whole=(type(ours),), helpers=helpers
    )
    if not report.add(honesty.ROW, problem is None, honesty.refusal(problem) if problem else ""):
        return
    if subclass is not None:  # the library's parts it is built from may run (residual units)
        watch.allow(honesty.library_parts(theirs, whole=(type(ours),)))
    n, h, w = setup.shape
    x = torch.randn(n, setup.channels, h, w)
    if _same_structure(report, watch, ours, theirs, x, setup.count_hint):
        _same_numbers(report, watch, ours, theirs, x, setup.atol, setup.advice)


def watch_answer(
    candidate: object,
    answer: type | None = None,
    *,
    own: Sequence[str] = ("__init__", "forward"),
    subclass: type | None = None,
    helpers: Sequence[object] = (),
    time_limit: float | None = None,
) -> watch_.Watch:
    """The watch for one grading: the helpers may run (and the library subclass's other methods,
    for a subclassing exercise); ``answer``, the library's class the answer is compared with (or
    the subclass's methods named in ``own``), never."""
    roots: list[object] = [*honesty.HELPERS, *helpers]
    if honesty.placeholder(candidate):  # a student copy's stub: it says "not written yet"
        roots.append(candidate.__mro__[1])  # type: ignore[union-attr]
    forbidden: list[object] = [answer] if answer is not None else []
    if subclass is not None and honesty.subclasses(candidate, subclass):
        for base in subclass.__mro__:
            for name, attr in vars(base).items():
                (forbidden if name in own else roots).append(attr)
        forbidden = [f for f in forbidden if f is not answer]
    limit = watch_.TIME_LIMIT if time_limit is None else time_limit
    name = honesty.label(candidate)
    return watch_.Watch(roots=roots, forbidden=forbidden, time_limit=limit, name=name)


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


def _describe(candidate: object) -> str:
    name = getattr(candidate, "__name__", None)
    if isinstance(name, str):
        return name
    func = getattr(candidate, "func", None)  # functools.partial
    return f"partial({func.__name__})" if hasattr(func, "__name__") else repr(candidate)


def _an_instance(report: GradeReport, candidate: object) -> bool:
    """A built module passed in place of its class: say so (calling it would run forward)."""
    if not isinstance(candidate, nn.Module) or honesty.from_library(candidate):
        return False  # the library's own module: the own-code rule says what is wrong
    cls = type(candidate).__name__
    return not report.add(
        "builds",
        False,
        f"you passed a {cls} object, a module already built (such as {cls}(64)); pass the "
        f"class itself, {cls}, without parentheses: the grader builds it",
    )


def _from_registry(name: str) -> Callable[..., nn.Module]:
    return lambda c, **kw: registry.build(name, c, **kw)


def _build(
    report: GradeReport, watch: watch_.Watch, candidate: Callable[..., nn.Module], setup: _Setup
) -> nn.Module | None:
    """The reader's module in eval mode, or None (reported) when building it failed."""
    name, channels, kwargs = _describe(candidate), setup.channels, setup.kwargs
    if not callable(candidate):
        report.add(
            "builds",
            False,
            f"{name} is a {type(candidate).__name__}, not a class: pass your class itself",
        )
        return None
    try:
        theirs = watch.run(lambda: candidate(channels, **kwargs))
        if isinstance(theirs, nn.Module):
            watch.run(theirs.eval)
    except watch_.Raised as raised:  # the reader's code: report, don't crash the notebook
        call = f"{name}({channels}, **{kwargs})"
        report.add("builds", False, f"{call} raised {what_raised(raised.exc)}")
        return None
    if not isinstance(theirs, nn.Module):
        what = f"{name}({channels}) gave a {type(theirs).__name__}, not an nn.Module"
        report.add("builds", False, f"{what}: write a class that subclasses torch.nn.Module")
        return None
    report.add("builds", True)
    return theirs


def _not_plain(out: object, x: Tensor, what: str = "forward") -> str | None:
    """Why ``out`` is not what a module returns: a plain tensor of the input's dtype."""
    if type(out) is Tensor:
        if out.dtype != x.dtype:
            return (
                f"{what} returned {out.dtype} values for a {x.dtype} input: keep the input's "
                "dtype (no .double(), no .half())"
            )
        return None
    if isinstance(out, Tensor):
        return (
            f"{what} returned a {type(out).__name__}, a subclass of torch.Tensor: return a plain "
            "torch.Tensor"
        )
    return f"{what} returned a {type(out).__name__}, not a tensor"


IN_PLACE = (
    "forward changed its input tensor in place (x *= s, x += y, relu_): the caller's "
    "tensor is overwritten, and autograd may need it for the backward pass. Write "
    "x = x * s instead"
)


def _same_structure(
    report: GradeReport,
    watch: watch_.Watch,
    ours: nn.Module,
    theirs: nn.Module,
    x: Tensor,
    count_hint: str | None,
) -> bool:
    """Forward runs, the output's type and shape, the parameter count, weights that copy
    across."""
    given = x.clone()
    try:
        out = watch.run(theirs, given)
    except watch_.Raised as raised:
        text = f"calling it on a {tuple(x.shape)} input raised {what_raised(raised.exc)}"
        return report.add("forward", False, text)
    if not torch.equal(given, x):
        return report.add("leaves its input alone", False, IN_PLACE)
    if problem := _not_plain(out, x):
        return report.add("output shape", False, problem)
    if not report.add(
        "output shape",
        tuple(out.shape) == tuple(x.shape),
        f"expected {tuple(x.shape)}, got {tuple(out.shape)}" if out.shape != x.shape else "",
    ):
        return False
    n_ours, n_theirs = _count(ours), watch.run(_count, theirs)
    count_advice = count_hint or "check the hidden width (reduction) and which layers have biases"
    if not report.add(
        "parameter count",
        n_ours == n_theirs,
        f"expected {n_ours:,}, yours has {n_theirs:,}: {count_advice}"
        if n_ours != n_theirs
        else f"{n_theirs:,}",
    ):
        return False
    problem = _copy_weights(ours, theirs, watch)
    return report.add("weights line up with the reference", problem is None, problem or "")


TRAINING = (
    "your module computes something else in training mode (after .train(), self.training is "
    "True): only BatchNorm may behave differently there, normalising with the batch's statistics"
)


def _same_numbers(
    report: GradeReport,
    watch: watch_.Watch,
    ours: nn.Module,
    theirs: nn.Module,
    x: Tensor,
    atol: float,
    advice: _Advice,
) -> None:
    """The same output as the reference (with the weights copied) in eval and in training mode,
    and gradients everywhere."""
    row = "same output as attncv's module"
    with torch.no_grad():
        expected = ours(x)
        ours.train()
        expected_train = ours(x)  # BatchNorm: the batch's statistics
        ours.eval()
        got = watch.run(theirs, x.clone())
    if _not_plain(got, x) or got.shape != expected.shape:
        report.add(row, False, _not_plain(got, x) or "a second call gave another shape")
        return
    err = (expected - got).abs().max().item()
    if not err <= atol:  # NaN too
        hint = _hint(advice.hints, advice.fallback, x, got, expected)
        report.add(row, False, f"max difference {err:.3g} (tolerance {atol:g}){hint}")
        return
    watch.run(theirs.train)
    watch.run(theirs.zero_grad)
    given = x.clone().requires_grad_()  # as in a network: gradients flow to the input too
    inp = given * 1
    try:
        out = watch.run(theirs, inp)
    except watch_.Raised as raised:
        report.add(row, False, f"in training mode, forward raised {what_raised(raised.exc)}")
        return
    if not torch.equal(inp.detach(), x):
        report.add("leaves its input alone", False, f"in training mode, {IN_PLACE}")
        return
    if problem := _not_plain(out, x, "forward in training mode"):
        report.add(row, False, problem)
        return
    err_train = (expected_train - out.detach()).abs().max().item() if out.shape == x.shape else -1
    if not 0 <= err_train <= atol:
        report.add(
            row,
            False,
            f"max difference {err:.3g} in eval mode, but "
            + (f"{err_train:.3g} in training mode" if err_train >= 0 else "another shape")
            + f" (tolerance {atol:g}). Hint: {TRAINING}",
        )
        return
    report.add(row, True, f"max difference {max(err, err_train):.3g} (tolerance {atol:g})")
    try:
        watch.run(lambda: out.square().mean().backward())
    except watch_.Raised as raised:  # autograd's errors are the reader's too: an in-place x *= s
        report.add("gradients reach every parameter", False, _backward_hint(raised.exc))
        return
    named = watch.run(lambda: list(theirs.named_parameters()))
    missing = [n for n, p in named if p.grad is None or not p.grad.abs().sum()]
    report.add(
        "gradients reach every parameter",
        not missing,
        f"no gradient for {', '.join(missing)}: is it used in forward()?" if missing else "",
    )


def _backward_hint(exc: BaseException) -> str:
    text = f"a training step (forward in train mode, then backward) raised {what_raised(exc)}"
    if "inplace" in str(exc) or "in-place" in str(exc):
        text += (
            ". Hint: an operation in place (x *= s, x += y, relu_, clamp_) overwrote a "
            "tensor that autograd needs for the backward pass: write x = x * s, "
            "y = y.clamp(...) instead"
        )
    return text


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _tensors(module: nn.Module) -> list[Tensor]:
    return [t for t in list(module.parameters()) + list(module.buffers()) if t.is_floating_point()]


def _copy_weights(source: nn.Module, target: nn.Module, watch: watch_.Watch) -> str | None:
    """Copy parameters and buffers in registration order, matched by shape, not by name."""
    src, dst = _tensors(source), watch.run(_tensors, target)
    src_shapes = sorted(_key(t) for t in src)
    dst_shapes = watch.run(lambda: sorted(_key(t) for t in dst))
    if src_shapes != dst_shapes:
        return (
            f"the reference's tensors have shapes {src_shapes}, yours {dst_shapes}; create the "
            "layers with the same sizes (a 1x1 convolution and a Linear layer of the same "
            "size hold the same weights, so either is fine if you reshape)"
        )
    watch.run(_copy_into, [s.detach().clone() for s in src], dst)  # the reader's tensors
    return None


def _copy_into(pool: list[Tensor], dst: list[Tensor]) -> None:
    with torch.no_grad():
        for t in dst:
            for i, s in enumerate(pool):
                if _key(s) == _key(t):
                    t.copy_(pool.pop(i).reshape(t.shape))
                    break


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
