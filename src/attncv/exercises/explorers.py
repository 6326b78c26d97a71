"""Grader for the explorers page: the reader's parameter-count formula against the real module."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..attention import registry
from ..model import count_params
from .grader import GradeReport, own_code
from .reference import is_reference_solution

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
    suggests (the biases, or the hidden width computed the wrong way round).
    """
    title = registry.entry(name).title
    report = GradeReport(f"parameter formula for {title}", reference=is_reference_solution(formula))
    for channels, kwargs in grid if own_code(report, formula) else ():
        expected = count_params(registry.build(name, channels, **kwargs))
        args = ", ".join([f"channels={channels}"] + [f"{k}={v}" for k, v in kwargs.items()])
        try:
            got = formula(channels, **kwargs)
        except Exception as exc:  # the reader's code: report, don't crash the notebook
            report.add(f"{args}", False, f"your function raised {type(exc).__name__}: {exc}")
            break
        if not report.add(
            f"{args}: {expected:,}",
            got == expected,
            "" if got == expected else _hint(got, expected, channels, kwargs),
        ):
            break
    if verbose:
        print(report)
    return report


def _hint(got: object, expected: int, channels: int, kwargs: Mapping[str, object]) -> str:
    if not isinstance(got, int):
        return (
            f"yours gives {got!r}; a count is a whole number: the hidden width is C // r "
            "(rounded down), so use // rather than /"
        )
    text = f"yours gives {got:,}, {got - expected:+,} off"
    r = kwargs.get("reduction")
    if isinstance(r, int) and expected - got == channels // r + channels:
        return text + ": the difference is C/r + C, the biases of the two layers"
    if isinstance(r, int) and got == 2 * channels * channels * r + channels * r + channels:
        return text + ": the hidden width is C / r, not C * r"
    return text
