"""Grader for the explorers page: the reader's parameter-count formula against the real module."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..attention import registry
from ..model import count_params
from . import watch as watch_
from .grader import own_code, watch_answer
from .reference import is_reference_solution
from .report import GradeReport, stopped, what_raised

SE_GRID = [(c, {"reduction": r}) for c in (16, 64, 100, 512) for r in (2, 4, 16)]


def check_param_formula(
    formula: Callable[..., int],
    name: str = "se",
    *,
    grid: Sequence[tuple[int, Mapping[str, object]]] = SE_GRID,
    verbose: bool = True,
) -> GradeReport:
    """Grade ``formula(channels, **kwargs)``: the parameter count of the registry module ``name``
    for every (channels, kwargs) in ``grid``, against the module itself.

    The report names the first case that differs, by how much, and what that difference
    suggests (the biases, or the hidden width computed the wrong way round). A passing case is
    listed without its count: the counts are what the reader's formula must produce, and a
    report that printed all of them would be the answer's table.
    """
    title = registry.entry(name).title
    report = GradeReport(f"parameter formula for {title}", reference=is_reference_solution(formula))
    watch = watch_answer(formula, own=())
    try:
        for channels, kwargs in grid if own_code(report, formula) else ():
            expected = count_params(registry.build(name, channels, **kwargs))
            args = ", ".join([f"channels={channels}"] + [f"{k}={v}" for k, v in kwargs.items()])
            try:
                got = watch.run(lambda c=channels, kw=kwargs: formula(c, **kw))
            except watch_.Raised as raised:  # the reader's code: report, don't crash the notebook
                report.add(f"{args}", False, f"your function raised {what_raised(raised.exc)}")
                break
            ok = type(got) is int and got == expected
            if not report.add(args, ok, "" if ok else _hint(got, expected, channels, kwargs)):
                break
    except (watch_.Refused, watch_.OutOfTime) as stop:
        stopped(report, stop)
    if verbose:
        print(report)
    return report


def _hint(got: object, expected: int, channels: int, kwargs: Mapping[str, object]) -> str:
    if type(got) is not int:
        shown = repr(got) if type(got) is float else f"a {type(got).__name__}"
        return (
            f"yours gives {shown}; a count is a whole number: the hidden width is C // r "
            "(rounded down), so use // rather than /"
        )
    text = f"yours gives {got:,}, {got - expected:+,} off"
    r = kwargs.get("reduction")
    if isinstance(r, int) and expected - got == channels // r + channels:
        return text + ": the difference is C/r + C, the biases of the two layers"
    if isinstance(r, int) and got == 2 * channels * channels * r + channels * r + channels:
        return text + ": the hidden width is C / r, not C * r"
    return text
