"""GradeReport: a falsy report for the notebooks, a raised failure for autograders."""

from __future__ import annotations

import pytest

from attncv.exercises import GradeFailure, GradeReport


def test_assert_passed_is_silent_when_every_check_passed() -> None:
    report = GradeReport("SE")
    report.add("builds", True)
    report.add("output shape", True)
    assert report.assert_passed() is None  # nothing to display: an autograder gives full marks
    assert report.failure == ""


def test_assert_passed_raises_the_first_failure() -> None:
    report = GradeReport("ECA")
    report.add("builds", True)
    report.add("parameter count", False, "expected 5, yours has 3")
    report.add("later", False, "not reached in practice")
    with pytest.raises(GradeFailure, match=r"^ECA: parameter count: expected 5, yours has 3$"):
        report.assert_passed()
    assert issubclass(GradeFailure, AssertionError)  # `assert check_x(...)` and this agree


def test_a_notebook_shows_the_failure_in_one_line() -> None:
    lines = GradeFailure("SE: output shape: expected (2, 64, 9, 7)")._render_traceback_()
    assert len(lines) == 1 and lines[0].endswith(
        "GradeFailure\x1b[0m: SE: output shape: expected (2, 64, 9, 7)"
    )


def test_an_empty_report_does_not_pass() -> None:
    with pytest.raises(GradeFailure, match="no check ran"):
        GradeReport("SE").assert_passed()
