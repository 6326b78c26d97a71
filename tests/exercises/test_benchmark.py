"""The benchmark chapter's grader accepts the measure and names the usual slips."""

from __future__ import annotations

import pytest

from attncv.exercises.benchmark import check_top5_mean
from attncv.train import best5_mean as top5_mean

# Mistakes are written as subclasses of the library's modules, and the library's modules are
# graded as references: the rule against such answers is tested in test_honesty.py.
pytestmark = pytest.mark.usefixtures("library_answers")


def test_accepts_the_reference() -> None:
    assert check_top5_mean(top5_mean, verbose=False)


def test_names_the_first_five_epochs() -> None:
    report = check_top5_mean(lambda a: sum(a[:5]) / len(a[:5]), verbose=False)
    assert not report and "first five" in str(report)


def test_names_dividing_by_five_for_short_runs() -> None:
    report = check_top5_mean(lambda a: sum(sorted(a)[-5:]) / 5, verbose=False)
    assert not report and "fewer than five" in str(report)


def test_names_the_maximum() -> None:
    report = check_top5_mean(max, verbose=False)
    assert not report and "maximum" in str(report)


def test_survives_a_crash() -> None:
    report = check_top5_mean(lambda a: 1 / 0, verbose=False)
    assert not report and "ZeroDivisionError" in str(report)
