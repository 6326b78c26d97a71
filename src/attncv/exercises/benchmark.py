"""Grader for the benchmark chapter: the reader's "mean of the best five epochs"."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..train import best5_mean
from . import watch as watch_
from .grader import own_code, watch_answer
from .reference import is_reference_solution
from .report import GradeReport, stopped, what_raised

CURVES: list[list[float]] = [
    [0.31, 0.45, 0.52, 0.58, 0.61, 0.63, 0.64, 0.66],  # rising: the best five are the last five
    [0.50, 0.62, 0.55, 0.66, 0.48, 0.64, 0.60, 0.51],  # noisy: the best five are scattered
    [0.40, 0.52],  # fewer than five epochs: the mean of all of them
    [0.70, 0.70, 0.69, 0.70, 0.68, 0.70, 0.30],  # ties, and a collapse at the end
]


def check_top5_mean(
    candidate: Callable[[Sequence[float]], float], *, verbose: bool = True
) -> GradeReport:
    """Grade ``candidate(accuracies)``, the mean of the five highest test accuracies of a run (of
    all of them if there are fewer than five), on curves chosen to catch the usual slips."""
    report = GradeReport("mean of the best five epochs", reference=is_reference_solution(candidate))
    watch = watch_answer(candidate, own=())
    try:
        for curve in CURVES if own_code(report, candidate) else ():
            expected = best5_mean(curve)
            try:
                got = watch.run(candidate, list(curve))
            except watch_.Raised as raised:  # the reader's code: report, don't crash the notebook
                report.add(f"{curve}", False, f"your function raised {what_raised(raised.exc)}")
                break
            ok = type(got) in (int, float) and abs(got - expected) < 1e-9  # False for NaN
            if not report.add(f"{curve}: {expected:.4f}", ok, "" if ok else _hint(got, curve)):
                break
    except (watch_.Refused, watch_.OutOfTime) as stop:
        stopped(report, stop)
    if verbose:
        print(report)
    return report


def _hint(got: object, curve: list[float]) -> str:
    if type(got) not in (int, float):
        return f"yours returns a {type(got).__name__}; return one number (a float), the mean"
    close = lambda v: abs(got - v) < 1e-9
    text = f"yours gives {got:.4f}"
    if len(curve) < 5 and close(sum(curve) / 5):
        return text + ": with fewer than five epochs, divide by how many there are"
    if close(sum(curve[:5]) / len(curve[:5])):
        return text + ": that is the first five epochs; sort the accuracies, highest first"
    if close(sum(curve[-5:]) / len(curve[-5:])):
        return text + ": that is the last five epochs, not the five best"
    if close(max(curve)):
        return text + ": that is the single best epoch (the maximum), not the mean of five"
    return text
